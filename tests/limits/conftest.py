"""The limits tests' fixtures: the shared harness in tests/fixtures/limits.py."""

from __future__ import annotations

from tests.fixtures.limits import clock, harness

__all__ = ["clock", "harness"]
