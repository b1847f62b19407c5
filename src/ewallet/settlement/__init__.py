"""Merchant and biller settlement: payout accounts, the daily payout run, statements."""
