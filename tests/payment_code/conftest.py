"""The payment_code tests' fixtures: the shared harness in tests/fixtures/payment_codes.py."""

from __future__ import annotations

from tests.fixtures.payment_codes import clock, shop

__all__ = ["clock", "shop"]
