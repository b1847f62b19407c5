"""Transfers to another person's bank card: a withdrawal to a card that is not the payer's."""
