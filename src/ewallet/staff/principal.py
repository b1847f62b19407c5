"""The signed-in staff member of a request, and what a role may do.

Kept free of FastAPI so services and the CLI can use it; :mod:`ewallet.staff.deps` builds
it from the bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.audit.service import Actor
from ewallet.models.operations import STAFF_ROLES, StaffRole

ADMIN = StaffRole.ADMIN


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    staff_id: str
    session_id: str
    role: str
    must_change_password: bool
    session_expires_at: datetime
    ip: str | None = None
    email: str = ""
    display_name: str | None = None

    def actor(self) -> Actor:
        """The audit actor: every staff action is recorded under the staff member's id."""
        return Actor("staff", self.staff_id, self.ip)

    def may(self, roles: frozenset[str]) -> bool:
        """Admin passes every role check; anyone else needs one of ``roles``."""
        return self.role == ADMIN or self.role in roles


def checked_roles(roles: tuple[str, ...]) -> frozenset[str]:
    """``roles`` as a set, refusing a misspelt role at import time rather than at request time."""
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown or missing staff roles: {sorted(unknown)}")
    return frozenset(roles)
