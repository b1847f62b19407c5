"""Merchants: created by staff or the CLI, authenticated by API keys, paid into the ledger."""
