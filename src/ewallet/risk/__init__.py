"""Risk and limits: account-class allowances (limits) and spending caps (spending)."""
