"""Chat refusals, each with a stable ``code`` (titles in :mod:`ewallet.kit.i18n`)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError


class ChatClosedError(ConflictError):
    """A message or action for a chat that has already ended."""

    code = "chat_closed"


class ChatNotWaitingError(ConflictError):
    """An agent tried to take a chat that is not in the queue (taken by someone else, ended)."""

    code = "chat_not_waiting"
