"""Merchant orders: created, read and closed through the merchant API."""
