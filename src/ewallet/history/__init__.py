"""What happened to a wallet: the transaction history and monthly statements (API.md)."""
