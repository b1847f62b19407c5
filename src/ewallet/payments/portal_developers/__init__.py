"""The merchant portal's Developers page: the API key's facts, rotating it with the owner's
authenticator, the webhook URL and the delivery log."""
