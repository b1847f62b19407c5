"""The identity tests' fixtures: the shared harness in tests/fixtures/identity.py."""

from __future__ import annotations

from tests.fixtures.identity import fast_settings, wallet

__all__ = ["fast_settings", "wallet"]
