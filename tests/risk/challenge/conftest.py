"""The challenge tests' fixtures: the account harness (transfers) and the shop (orders,
payment codes), on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.fixtures.payment_codes import shop
from tests.fixtures.transfers import clock, harness

__all__ = ["clock", "harness", "shop"]
