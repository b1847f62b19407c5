"""The development outbox: SMS and mail the capturing providers kept instead of sending."""
