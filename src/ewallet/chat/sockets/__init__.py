"""The live chat: ``WS /v1/support/chat`` (customers) and ``WS /v1/staff/support/chat``."""
