"""Merchant webhooks: queued with an order's change, signed and delivered by the outbox."""
