"""What the operations-health services hand back: plain values (docs/operations.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row

from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money

FundingKind = Literal["topup", "withdrawal"]
# Who finishes an item: the periodic settle job asks the bank (card top-ups, withdrawals);
# a PSP order waits for the PSP's notice or the day's reconciliation.
SettledBy = Literal["settle_job", "psp_notice"]
# Where the money of an unfinished item sits meanwhile.
HeldIn = Literal["suspense", "wallet_hold"]
OutboxState = Literal["due", "in_flight", "retrying", "scheduled", "dead"]
EventState = Literal["due", "in_flight", "retrying", "scheduled", "dead", "delivered"]


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """One unfinished top-up or withdrawal as stored (the repository's row)."""

    kind: FundingKind
    id: str
    state: str
    channel: str
    amount: Money
    fee: Money | None
    user_id: str
    phone: str
    bank_name: str | None
    card_last_four: str | None
    in_suspense: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Row[Any]) -> PendingRecord:
        return cls(
            kind=row.kind,
            id=row.id,
            state=row.state,
            channel=row.channel,
            amount=Money(int(row.amount), row.currency),
            fee=None if row.fee is None else Money(int(row.fee), row.currency),
            user_id=row.user_id,
            phone=row.phone,
            bank_name=row.bank_name,
            card_last_four=row.last_four,
            in_suspense=bool(row.in_suspense),
            created_at=as_utc(row.created_at),
        )


@dataclass(frozen=True, slots=True)
class PendingFunding:
    """An unfinished top-up or withdrawal as operators see it: the customer's phone masked,
    its age, where its money sits, and when it is asked about or given up on next."""

    kind: FundingKind
    id: str
    state: str
    channel: str
    amount: Money
    fee: Money | None
    user_id: str
    phone_masked: str
    bank_name: str | None
    card_last_four: str | None
    created_at: datetime
    age_seconds: int
    held_in: HeldIn | None
    settled_by: SettledBy
    next_inquiry_at: datetime | None
    gives_up_at: datetime | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class PendingGroup:
    """How many unfinished items of one kind, state and currency, their total, the oldest."""

    kind: FundingKind
    state: str
    count: int
    total: Money
    oldest_created_at: datetime


@dataclass(frozen=True, slots=True)
class PendingFundingReport:
    items: list[PendingFunding]
    next_cursor: str | None
    groups: list[PendingGroup]
    suspense: list[Money]
    settle_interval_seconds: float
    unknown_grace_seconds: int


@dataclass(frozen=True, slots=True)
class OutboxBucket:
    """The repository's count of one topic's events in one state."""

    topic: str
    state: OutboxState
    count: int
    max_attempts: int
    earliest_available_at: datetime


@dataclass(frozen=True, slots=True)
class TopicHealth:
    """One topic's events by state; ``oldest_due_at`` says how far delivery lags,
    ``next_retry_at`` when the first retrying event is tried again."""

    topic: str
    due: int
    in_flight: int
    retrying: int
    scheduled: int
    dead: int
    most_attempts: int
    oldest_due_at: datetime | None
    next_retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One outbox event as stored, payload included (never handed past the service)."""

    id: int
    topic: str
    status: str
    attempts: int
    claimed: bool
    last_error: str | None
    payload: dict[str, Any]
    created_at: datetime
    available_at: datetime

    @classmethod
    def of(cls, row: Row[Any]) -> OutboxRecord:
        return cls(
            id=int(row.id),
            topic=row.topic,
            status=row.status,
            attempts=int(row.attempts),
            claimed=row.claimed_by is not None,
            last_error=row.last_error,
            payload=dict(row.payload or {}),
            created_at=as_utc(row.created_at),
            available_at=as_utc(row.available_at),
        )


@dataclass(frozen=True, slots=True)
class OutboxEventView:
    """An outbox event for operators: its topic and the ids it refers to, never its
    payload (an SMS body holds a verification code); ``last_error`` scrubbed of payload
    values and phone numbers. For a dead event ``available_at`` is the end of the lease of
    its last attempt (the attempt was made shortly before)."""

    id: int
    topic: str
    state: EventState
    attempts: int
    last_error: str | None
    references: dict[str, str]
    created_at: datetime
    available_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    topics: list[TopicHealth]
    max_attempts: int
    dead: list[OutboxEventView]
    next_cursor: str | None
