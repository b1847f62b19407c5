"""The transfers tests' fixtures: the shared harness in tests/fixtures/transfers.py."""

from __future__ import annotations

from tests.fixtures.transfers import clock, harness

__all__ = ["clock", "harness"]
