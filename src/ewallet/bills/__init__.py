"""Bill payments: the biller directory, bill look-ups, payments and receipts (docs/bills.md)."""
