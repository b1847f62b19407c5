"""Request and response bodies of the staff API (separate from the ORM tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from ewallet.kit.request_model import RequestModel

StaffRole = Literal[
    "admin", "support_agent", "teller", "teller_supervisor", "risk_officer", "operator"
]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _In(RequestModel):
    """A request body of this module: unknown fields are refused."""


class StaffSignIn(_In):
    email: Email
    password: Secret
    totp_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12)]


class StaffTokensOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name)
    expires_in: int = Field(description="Seconds the access token stays valid.")
    expires_at: datetime
    session_expires_at: datetime = Field(description="No refresh goes past this instant.")


class StaffSessionOut(BaseModel):
    tokens: StaffTokensOut
    must_change_password: bool


class StaffOut(BaseModel):
    id: str
    email: str
    role: StaffRole
    display_name: str | None
    status: Literal["active", "disabled"]
    must_change_password: bool
    created_at: datetime
    last_sign_in_at: datetime | None


class StaffListOut(BaseModel):
    items: list[StaffOut]


class StaffCreateIn(_In):
    email: Email
    role: StaffRole
    display_name: Annotated[
        str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
    ] = None


class StaffCreatedOut(BaseModel):
    staff: StaffOut
    password: str = Field(description="One-time password; shown once, change at first sign-in.")
    totp_secret: str = Field(description="Base32 TOTP secret; shown once.")
    otpauth_uri: str


class PasswordChangeIn(_In):
    current_password: Secret
    new_password: Secret


class FreezeIn(_In):
    reason: Reason


class UserStateOut(BaseModel):
    id: str
    status: str
    frozen_at: datetime | None
    frozen_by: str | None
    frozen_reason: str | None


class UserStateEnvelope(BaseModel):
    user: UserStateOut


class AuditEventOut(BaseModel):
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


class AuditEventPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None


class AuditEventDetailOut(BaseModel):
    event: AuditEventOut
    hash_matches: bool = Field(description="The event's content still gives its stored hash.")
    link_matches: bool = Field(
        description="Its prev_hash is the hash of the event just before it (genesis for 1)."
    )
    previous_event_id: int | None
    next_event_id: int | None


class ChainProblemOut(BaseModel):
    event_id: int
    kind: Literal["edited", "link_broken", "missing", "unexpected", "head_mismatch", "rewritten"]
    message: str


class AuditChainStatusOut(BaseModel):
    state: Literal["verified", "behind", "broken"] = Field(
        description="verified: up to the newest event; behind: no problem so far, more events "
        "wait for the next check; broken: see first_problem."
    )
    total_events: int
    verified_event_id: int = Field(description="Events 1 to this one are verified.")
    verified_event_at: datetime | None
    unchecked_events: int
    checked_from_event_id: int = Field(description="The checkpoint this check started from.")
    events_checked: int
    checked_at: datetime
    first_problem: ChainProblemOut | None
    problem_count: int
    head_hash: str | None


class StaffPatchIn(_In):
    role: StaffRole


class TotpResetIn(_In):
    reason: Reason


class TotpResetRejectIn(_In):
    reason: Reason | None = None


class TotpResetOut(BaseModel):
    id: str
    staff_id: str
    staff_email: str
    requested_by: str
    requested_by_email: str
    reason: str
    state: Literal["pending", "approved", "rejected", "expired"]
    created_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_by_email: str | None
    decided_at: datetime | None
    decision_reason: str | None


class TotpResetEnvelope(BaseModel):
    reset: TotpResetOut


class TotpResetPage(BaseModel):
    items: list[TotpResetOut]
    next_cursor: str | None


class TotpResetApprovedOut(BaseModel):
    reset: TotpResetOut
    totp_secret: str = Field(description="The new base32 TOTP secret; shown once.")
    otpauth_uri: str
    sessions_ended: int
