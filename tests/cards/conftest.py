"""Card tests reuse the account-security harness: users made directly, tokens issued."""

from tests.fixtures.accounts import clock, harness

__all__ = ["clock", "harness"]
