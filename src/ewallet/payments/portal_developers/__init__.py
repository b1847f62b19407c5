"""The merchant portal's Developers page: the API keys (create, rotate, revoke with the
owner's authenticator), the webhook URL and the delivery log."""
