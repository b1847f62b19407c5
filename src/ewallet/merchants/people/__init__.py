"""Merchant people: the owner, managers and cashiers who sign in to the merchant portal."""
