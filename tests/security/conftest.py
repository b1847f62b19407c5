"""App fixtures shared with the other staff and operations suites."""

from tests.fixtures.staff_app import app, client, clock, fast_settings, security

__all__ = ["app", "client", "clock", "fast_settings", "security"]
