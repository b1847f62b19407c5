"""The authenticator app (TOTP): enrolment, bounded checks, recovery codes (``/v1/me/totp``)."""
