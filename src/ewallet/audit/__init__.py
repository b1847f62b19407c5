"""The audit trail: every security event and staff action, append-only and hash-chained."""

from ewallet.audit.service import Actor, record_event

__all__ = ["Actor", "record_event"]
