"""Wrong-password counting and the temporary sign-in lock, for accounts and unknown phones."""
