"""The review queue tests' fixtures: the account harness with money (tests/fixtures)."""

from __future__ import annotations

from tests.fixtures.transfers import clock, harness

__all__ = ["clock", "harness"]
