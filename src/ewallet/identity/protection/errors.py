"""Refusals of the owner's own unfreeze (docs/account-lifecycle.md)."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class UnfreezeNeedsStaffError(DomainError):
    """Only staff may lift this freeze; ``reason``: ``frozen_by_staff`` (staff put it, e.g.
    for compliance) or ``identity_not_verified`` (no real name to check online)."""

    code = "unfreeze_needs_staff"
    status = 409
