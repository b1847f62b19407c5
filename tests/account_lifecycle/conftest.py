"""The account life-cycle tests' fixtures: the shared harness in tests/fixtures/accounts.py."""

from __future__ import annotations

from tests.fixtures.accounts import clock, harness

__all__ = ["clock", "harness"]
