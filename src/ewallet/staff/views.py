"""What the staff use cases hand back: frozen values other code may read.

None of them carries a secret that is stored (a password hash, an encrypted TOTP secret);
:class:`NewStaff` carries the one-time password and TOTP secret that are shown once, and
:class:`ApprovedTotpReset` the new TOTP secret of an approved reset, shown once too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ewallet.audit.checkpoint import ChainStatus
from ewallet.kit.pagination import Page


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
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What an audit search matches (every given field must match; ``until`` excluded)."""

    actor_type: str | None = None
    actor_id: str | None = None
    action: str | None = None
    action_prefix: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_details(self) -> dict[str, Any]:
        """The filter as recorded on ``audit.viewed`` (only the fields given)."""
        values = {
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "action": self.action,
            "action_prefix": self.action_prefix,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class AuditEventDetail:
    """One audit event with its own check: does its content still match its hash, and
    does its ``prev_hash`` name the event before it (the genesis hash for the first)?"""

    entry: AuditEntry
    hash_matches: bool
    link_matches: bool
    previous_event_id: int | None
    next_event_id: int | None


@dataclass(frozen=True, slots=True)
class TotpResetView:
    """A request to replace a staff member's authenticator. ``state``: ``pending``,
    ``approved``, ``rejected`` or ``expired`` (pending past ``expires_at``)."""

    id: str
    staff_id: str
    staff_email: str
    requested_by: str
    requested_by_email: str
    reason: str
    state: str
    created_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_by_email: str | None
    decided_at: datetime | None
    decision_reason: str | None


@dataclass(frozen=True, slots=True)
class ApprovedTotpReset:
    """An approved reset and the new TOTP secret, shown this once to the approving admin."""

    reset: TotpResetView
    totp_secret: str
    otpauth_uri: str
    sessions_ended: int


@dataclass(frozen=True, slots=True)
class StaffOverview:
    """The administration page: every staff member, and the authenticator resets waiting
    for a second admin."""

    members: list[StaffView]
    open_resets: list[TotpResetView]


@dataclass(frozen=True, slots=True)
class StaffMember:
    """One staff member and the reset of their authenticator still waiting, if any."""

    staff: StaffView
    open_reset: TotpResetView | None


@dataclass(frozen=True, slots=True)
class AuditOverview:
    """The console's audit page: the chain's status and a page of the search."""

    status: ChainStatus
    page: Page[AuditEntry]
