"""Merchant tests reuse the payments harness (``shop``) and the staff helpers."""

from tests.fixtures.shop import clock, shop

__all__ = ["clock", "shop"]
