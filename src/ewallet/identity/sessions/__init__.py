"""Signing in and out: sessions, refresh-token rotation, new-device step-up (``/v1/sessions``)."""
