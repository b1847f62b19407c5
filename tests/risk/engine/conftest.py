"""The risk engine tests' fixtures: the account harness (tests/fixtures/accounts.py)."""

from __future__ import annotations

from tests.fixtures.transfers import clock, harness

__all__ = ["clock", "harness"]
