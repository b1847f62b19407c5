"""Changing the account's phone number: with both SMS codes, or reviewed by staff."""
