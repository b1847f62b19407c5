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
    hash: str


class AuditEventPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None
