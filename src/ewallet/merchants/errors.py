"""The merchant feature's own refusals (API.md conventions; texts in ``kit.i18n``)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError


class ApiKeyLimitError(ConflictError):
    """The merchant already has the most active API keys it may have."""

    code = "api_key_limit_reached"


class ApiKeyRevokedError(ConflictError):
    """The key was revoked already: it cannot be revoked or rotated again."""

    code = "api_key_revoked"
