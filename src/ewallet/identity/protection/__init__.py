"""Keeping an account safe: freezing it, unfreezing (staff), the anti-phishing code."""
