"""What a phone change answers: the new number, and a reviewed request as others read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.models.phone_change import PhoneChangeState


@dataclass(frozen=True, slots=True)
class PhoneChanged:
    phone: str  # E.164: the account's number from now on
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class PhoneChangeRequestView:
    id: str
    user_id: str
    old_phone: str  # E.164 (the owner's and customers' answers mask it; staff see it whole)
    new_phone: str
    state: PhoneChangeState
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None  # the staff member; None while pending or when superseded
    note: str | None


@dataclass(frozen=True, slots=True)
class PhoneChangeStart:
    """What the change-phone pages need: the number now, which proofs the account has,
    and a reviewed request still waiting, if any."""

    phone: str
    has_payment_password: bool
    identity_verified: bool
    pending: PhoneChangeRequestView | None


@dataclass(frozen=True, slots=True)
class PhoneChangeRequestPage:
    items: list[PhoneChangeRequestView]
    next_cursor: str | None
