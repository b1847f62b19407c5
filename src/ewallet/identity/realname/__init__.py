"""Real-name verification and the account class it raises (``POST /v1/me/identity``)."""
