"""Reconciliation tests reuse the withdrawal harness: the full app, sandbox bank and PSPs."""

from tests.fixtures.withdrawals import Withdrawing, clock, withdrawing

__all__ = ["Withdrawing", "clock", "withdrawing"]
