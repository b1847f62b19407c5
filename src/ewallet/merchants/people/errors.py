"""Refusals of the merchant people use cases.

They reuse the generic codes of API.md (``conflict``, ``forbidden``, ``not_found``), each with
its own English detail, so every code has its titles in :mod:`ewallet.kit.i18n`.
"""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, ForbiddenError


class MerchantUserEmailTakenError(ConflictError):
    """Someone (of any merchant) signs in with this email already."""


class MerchantUserDisabledError(ForbiddenError):
    """Right credentials of a disabled merchant user (said only once they were proven)."""


class TeamRuleError(ForbiddenError):
    """A team change the roles do not allow (an owner disabling themself, a manager made
    by a manager, ...)."""
