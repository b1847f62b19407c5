"""Call-back refusals, each with a stable ``code`` (titles in :mod:`ewallet.kit.i18n`)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError


class CallbackLimitError(ConflictError):
    code = "callback_limit_reached"


class CallbackNotOpenError(ConflictError):
    code = "callback_not_open"
