"""Answers of the operations-health API (amounts as decimal strings, API.md Money)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountOut
from ewallet.ops.health.views import (
    OutboxEventView,
    PendingFunding,
    PendingFundingReport,
    PendingGroup,
    TopicHealth,
)


class PendingItemOut(BaseModel):
    kind: str = Field(description="topup or withdrawal")
    id: str
    state: str = Field(
        description="top-ups: awaiting_payment (a PSP order open) or pending (a card debit's "
        "outcome unknown); withdrawals: processing (the bank being asked) or pending"
    )
    channel: str = Field(description="card, alipay or wechat_pay")
    amount: AmountOut
    fee: AmountOut | None = Field(description="a withdrawal's fee, held with it")
    user_id: str
    phone_masked: str = Field(description="the customer's phone, always masked")
    bank_name: str | None
    card_last_four: str | None
    created_at: datetime
    age_seconds: int
    held_in: str | None = Field(
        description="suspense (a card top-up in doubt), wallet_hold (a withdrawal), or null"
    )
    settled_by: str = Field(
        description="settle_job (asks the bank at every run) or psp_notice (the PSP's "
        "notice, or the day's reconciliation)"
    )
    next_inquiry_at: datetime | None = Field(
        description="when the settle job first asks about a young processing withdrawal; "
        "null when it asks at every run (or never: PSP orders)"
    )
    gives_up_at: datetime | None = Field(
        description="from then on, a bank with no record of the request fails it and "
        "releases the money"
    )
    overdue: bool = Field(
        description="past gives_up_at (or, for a PSP order, unpaid for a day): look at it"
    )

    @classmethod
    def of(cls, item: PendingFunding) -> PendingItemOut:
        return cls(
            kind=item.kind,
            id=item.id,
            state=item.state,
            channel=item.channel,
            amount=AmountOut.of(item.amount),
            fee=None if item.fee is None else AmountOut.of(item.fee),
            user_id=item.user_id,
            phone_masked=item.phone_masked,
            bank_name=item.bank_name,
            card_last_four=item.card_last_four,
            created_at=item.created_at,
            age_seconds=item.age_seconds,
            held_in=item.held_in,
            settled_by=item.settled_by,
            next_inquiry_at=item.next_inquiry_at,
            gives_up_at=item.gives_up_at,
            overdue=item.overdue,
        )


class PendingGroupOut(BaseModel):
    kind: str
    state: str
    count: int
    total: AmountOut
    oldest_created_at: datetime

    @classmethod
    def of(cls, group: PendingGroup) -> PendingGroupOut:
        return cls(
            kind=group.kind,
            state=group.state,
            count=group.count,
            total=AmountOut.of(group.total),
            oldest_created_at=group.oldest_created_at,
        )


class PendingFundingPage(BaseModel):
    items: list[PendingItemOut]
    next_cursor: str | None
    groups: list[PendingGroupOut] = Field(
        description="every unfinished item counted by kind, state and currency (filters "
        "do not apply)"
    )
    suspense: list[AmountOut] = Field(
        description="the money carried in suspense (card top-ups in doubt), per currency"
    )
    settle_interval_seconds: float = Field(description="how often the settle job runs (0: off)")
    unknown_grace_seconds: int

    @classmethod
    def of(cls, report: PendingFundingReport) -> PendingFundingPage:
        return cls(
            items=[PendingItemOut.of(item) for item in report.items],
            next_cursor=report.next_cursor,
            groups=[PendingGroupOut.of(group) for group in report.groups],
            suspense=[AmountOut.of(amount) for amount in report.suspense],
            settle_interval_seconds=report.settle_interval_seconds,
            unknown_grace_seconds=report.unknown_grace_seconds,
        )


class TopicHealthOut(BaseModel):
    topic: str
    due: int = Field(description="deliverable now (new, or a retry whose wait is over)")
    in_flight: int = Field(description="held by a relay, being delivered")
    retrying: int = Field(description="failed before, waiting for the next try")
    scheduled: int = Field(description="held back on purpose until later")
    dead: int = Field(description="given up on after every attempt failed; replayable")
    most_attempts: int
    oldest_due_at: datetime | None
    next_retry_at: datetime | None

    @classmethod
    def of(cls, health: TopicHealth) -> TopicHealthOut:
        return cls(
            topic=health.topic,
            due=health.due,
            in_flight=health.in_flight,
            retrying=health.retrying,
            scheduled=health.scheduled,
            dead=health.dead,
            most_attempts=health.most_attempts,
            oldest_due_at=health.oldest_due_at,
            next_retry_at=health.next_retry_at,
        )


class OutboxEventOut(BaseModel):
    id: int
    topic: str
    state: str
    attempts: int
    last_error: str | None = Field(description="payload values and phone numbers blanked")
    references: dict[str, str] = Field(description="the ids the event names; never a payload")
    created_at: datetime
    available_at: datetime = Field(
        description="next claim time; for a dead event, the end of its last attempt's lease"
    )

    @classmethod
    def of(cls, event: OutboxEventView) -> OutboxEventOut:
        return cls(
            id=event.id,
            topic=event.topic,
            state=event.state,
            attempts=event.attempts,
            last_error=event.last_error,
            references=event.references,
            created_at=event.created_at,
            available_at=event.available_at,
        )


class DeadEventsPage(BaseModel):
    items: list[OutboxEventOut]
    next_cursor: str | None


class OutboxHealthOut(BaseModel):
    topics: list[TopicHealthOut]
    max_attempts: int = Field(description="attempts before an event is dead")
    dead: DeadEventsPage


class OutboxEventEnvelope(BaseModel):
    event: OutboxEventOut
