"""A merchant's self-service through the merchant API: its record, webhook URL and API key."""
