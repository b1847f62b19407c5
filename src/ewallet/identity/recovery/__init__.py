"""Forgotten passwords: resets proven by an SMS code (``POST /v1/password-resets``)."""
