"""The user's wallet: its ledger accounts, balances and the limits of its account class."""
