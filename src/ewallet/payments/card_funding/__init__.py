"""Paying an order from a bound card, or the balance plus the card (docs/card-payments.md)."""
