"""Card-transfer tests: the withdrawals' harness (tests/fixtures/withdrawals.py)."""

from __future__ import annotations

from tests.fixtures.withdrawals import clock, withdrawing

__all__ = ["clock", "withdrawing"]
