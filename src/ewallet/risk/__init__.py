"""Risk and limits: account-class allowances (more rules arrive with payments)."""
