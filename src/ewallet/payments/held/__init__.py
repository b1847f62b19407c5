"""Merchant payments held for a risk review (docs/risk-review.md, "Merchant payments")."""
