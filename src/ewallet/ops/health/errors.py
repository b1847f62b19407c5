"""Refusals of operations health (titles in :mod:`ewallet.kit.i18n`)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError


class OutboxEventNotDeadError(ConflictError):
    """A replay of an outbox event that is not dead: it is still due, being delivered,
    waiting for a retry or already delivered, so replaying it would change nothing or
    send it twice."""

    code = "outbox_event_not_dead"
