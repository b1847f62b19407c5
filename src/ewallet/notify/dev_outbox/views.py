"""What the development outbox shows: captured SMS and mail, as frozen copies of the rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CapturedSms:
    """One text the ``outbox`` SMS provider kept."""

    id: int
    to: str  # E.164
    sender: str
    body: str
    code: str | None  # the verification code it carries, if any
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CapturedMail:
    """One mail the capturing mail provider kept (no SMTP URL set)."""

    id: int
    to: str
    sender: str
    subject: str
    body: str
    headers: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CapturedMessages:
    """Both kinds, newest first, for one page: a phone filter shows no mail and an address
    filter no SMS."""

    sms: list[CapturedSms] = field(default_factory=list)
    mail: list[CapturedMail] = field(default_factory=list)
    phone: str | None = None  # the E.164 number filtered on
    address: str | None = None  # the address filtered on (lower case)
