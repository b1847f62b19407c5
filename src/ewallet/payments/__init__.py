"""Merchant orders, wallet payments, refunds, merchant webhooks and the hosted checkout."""
