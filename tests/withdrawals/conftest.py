"""The withdrawals tests' fixtures: the shared harness in tests/fixtures/withdrawals.py."""

from __future__ import annotations

from tests.fixtures.withdrawals import clock, withdrawing

__all__ = ["clock", "withdrawing"]
