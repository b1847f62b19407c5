"""Refusals of a phone change (codes documented in docs/account-lifecycle.md)."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class PhoneUnchangedError(DomainError):
    code = "phone_unchanged"
    status = 422


class PhoneChangePendingError(DomainError):
    code = "phone_change_pending"
    status = 409


class PhoneChangeNotPendingError(DomainError):
    code = "phone_change_not_pending"
    status = 409


class RealNameNotVerifiedError(DomainError):
    code = "real_name_not_verified"
    status = 409
