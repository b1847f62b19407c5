"""Signing in: with the login password, with an SMS code, and passing a new-device step-up."""
