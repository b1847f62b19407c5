"""The funding tests' fixtures: the shared harness in tests/fixtures/funding.py."""

from __future__ import annotations

from tests.fixtures.funding import clock, funding

__all__ = ["clock", "funding"]
