"""Telling users what happened to their account: in-app notices, SMS and email."""
