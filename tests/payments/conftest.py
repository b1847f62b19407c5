"""The payments tests' fixtures: the shared harness in tests/fixtures/shop.py."""

from __future__ import annotations

from tests.fixtures.shop import clock, shop

__all__ = ["clock", "shop"]
