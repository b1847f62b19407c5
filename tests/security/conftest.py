"""App fixtures shared with the other staff and operations suites."""

from tests.staff.fixtures import app, client, clock, fast_settings, security

__all__ = ["app", "client", "clock", "fast_settings", "security"]
