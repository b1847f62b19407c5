"""Refunds of paid orders, made through the merchant API."""
