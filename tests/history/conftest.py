"""History tests reuse the account-security harness (users made directly, tokens issued)."""

from tests.account_security.conftest import clock, harness

__all__ = ["clock", "harness"]
