"""What the staff use cases hand back: frozen values other code may read.

None of them carries a secret that is stored (a password hash, an encrypted TOTP secret);
:class:`NewStaff` carries the one-time password and TOTP secret that are shown once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class StaffView:
    id: str
    email: str
    role: str
    display_name: str | None
    status: str
    must_change_password: bool
    created_at: datetime
    last_sign_in_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewStaff:
    """A created staff member and the secrets shown this once (never stored in clear)."""

    staff: StaffView
    password: str
    totp_secret: str
    otpauth_uri: str


@dataclass(frozen=True, slots=True)
class StaffTokens:
    """A staff access token and the instants that bound it."""

    access_token: str
    expires_at: datetime
    session_id: str
    session_expires_at: datetime
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class CustomerState:
    """A customer's account state after a staff freeze or unfreeze."""

    id: str
    status: str
    frozen_at: datetime | None
    frozen_by: str | None
    frozen_reason: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event of the hash-chained audit log, as the audit-log reader shows it."""

    id: int
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    action: str
    subject_type: str | None
    subject_id: str | None
    ip: str | None
    request_id: str | None
    details: dict[str, Any]
    hash: str
