"""What each kind of staff work needs: one table, read by the staff API and the console.

A :class:`Permission` names a piece of work and the roles that may do it. The ``/v1/staff``
endpoints check it (:func:`ewallet.staff.deps.require_permission`) and the console checks the
same object before a page is shown and to decide which links its navigation offers, so the
API and the pages can never disagree about who may do what. Admins pass every check except
cash handling: taking and approving cash at the counter is for tellers and their supervisors
only (two named people per large deposit, never an all-powerful account).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ewallet.models.operations import STAFF_ROLES, StaffRole


@dataclass(frozen=True, slots=True)
class Permission:
    name: str
    roles: frozenset[str]
    admin_passes: bool = True

    def allows(self, role: str) -> bool:
        return role in self.roles or (self.admin_passes and role == StaffRole.ADMIN)


def permission(name: str, *roles: str, admin_passes: bool = True) -> Permission:
    """A permission for ``roles``, refusing a misspelt role at import time."""
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown or missing staff roles: {sorted(unknown)}")
    return Permission(name, frozenset(roles), admin_passes)


ANY_STAFF: Final = permission("any_staff", *STAFF_ROLES)
# Support: tickets, chats, call-backs, logged calls, canned replies, help articles.
SUPPORT: Final = permission("support", StaffRole.SUPPORT_AGENT)
# Looking a customer up and freezing or unfreezing their account.
ACCOUNT_GUARD: Final = permission("account_guard", StaffRole.SUPPORT_AGENT, StaffRole.RISK_OFFICER)
# Counter cash: taking it, approving large amounts (no admin pass), reading, reporting.
CASH_HANDLING: Final = permission(
    "cash_handling", StaffRole.TELLER, StaffRole.TELLER_SUPERVISOR, admin_passes=False
)
CASH_APPROVAL: Final = permission("cash_approval", StaffRole.TELLER_SUPERVISOR, admin_passes=False)
CASH_READING: Final = permission(
    "cash_reading", StaffRole.TELLER, StaffRole.TELLER_SUPERVISOR, StaffRole.RISK_OFFICER
)
CASH_REPORTING: Final = permission(
    "cash_reporting", StaffRole.TELLER_SUPERVISOR, StaffRole.RISK_OFFICER
)
# Operations: reconciliation, pending money, the outbox, maintenance windows, merchants.
OPERATIONS: Final = permission("operations", StaffRole.OPERATOR)
RECONCILIATION_READING: Final = permission(
    "reconciliation_reading", StaffRole.OPERATOR, StaffRole.RISK_OFFICER
)
# Compliance: the audit log.
AUDIT: Final = permission("audit", StaffRole.RISK_OFFICER)
# Administration: staff accounts.
ADMINISTRATION: Final = permission("administration", StaffRole.ADMIN)
