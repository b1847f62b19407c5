"""The risk engine tests' fixtures: the account harness (tests/fixtures/accounts.py), and
the counter's (tests/counter/conftest.py) for counter deposits."""

from __future__ import annotations

from tests.counter.conftest import counter
from tests.fixtures.transfers import clock, harness

__all__ = ["clock", "counter", "harness"]
