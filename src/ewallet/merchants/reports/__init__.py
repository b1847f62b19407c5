"""Merchant reports: what a merchant took and gave back over a day (the portal's home)."""
