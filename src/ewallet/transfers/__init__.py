"""Transfers between wallets by phone number (API.md, Spending; docs/architecture.md)."""
