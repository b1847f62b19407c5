"""Closure refusals, each with its code (docs/account-closure.md)."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class ClosureBlockedError(DomainError):
    """Something still ties the account to money: ``blockers`` names every one of them."""

    code = "closure_blocked"
    status = 409
