"""SQL of operations health: unfinished top-ups and withdrawals, the outbox; never commits.

Unfinished money is read from ``topups`` and ``withdrawals`` as one list (``UNION ALL``),
oldest first; a card top-up is ``in_suspense`` when its amount was booked to suspense
(the ledger key ``topup:<id>:suspense``, docs/funding.md) and not released. The outbox is
read as :mod:`ewallet.worker.relay` leaves it: ``claimed_by`` set while a relay holds an
event's lease, ``available_at`` the next moment anyone may claim it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.models.funding import TopupStatus, WithdrawalStatus
from ewallet.models.outbox import OutboxEvent, OutboxStatus
from ewallet.models.tables import cards, ledger_accounts, ledger_transactions, topups, users
from ewallet.models.tables import withdrawals as withdrawal_rows
from ewallet.ops.health.views import (
    FundingKind,
    OutboxBucket,
    OutboxRecord,
    PendingGroup,
    PendingRecord,
)

# Not final yet: a PSP order open, a card debit's answer unknown; a withdrawal being asked
# or whose answer is unknown.
OPEN_TOPUP_STATES: Final = (TopupStatus.AWAITING_PAYMENT, TopupStatus.PENDING)
OPEN_WITHDRAWAL_STATES: Final = (WithdrawalStatus.PROCESSING, WithdrawalStatus.PENDING)
SUSPENSE_KIND: Final = "suspense"  # ledger.chart.suspense(): ``suspense:<currency>``


def _topups(states: Sequence[str]) -> Select[Any]:
    suspense_key = literal("topup:", String) + topups.c.id + literal(":suspense", String)
    release_key = literal("topup:", String) + topups.c.id + literal(":suspense_release", String)
    booked = exists().where(ledger_transactions.c.idempotency_key == suspense_key)
    released = exists().where(ledger_transactions.c.idempotency_key == release_key)
    return select(
        literal_column("'topup'", String).label("kind"),
        topups.c.id,
        topups.c.status.label("state"),
        topups.c.method.label("channel"),
        topups.c.amount,
        null().cast(BigInteger).label("fee"),
        topups.c.currency,
        topups.c.user_id,
        topups.c.card_id,
        and_(booked, ~released).label("in_suspense"),
        topups.c.created_at,
    ).where(topups.c.status.in_(list(states)))


def _withdrawals(states: Sequence[str]) -> Select[Any]:
    return select(
        literal_column("'withdrawal'", String).label("kind"),
        withdrawal_rows.c.id,
        withdrawal_rows.c.status.label("state"),
        literal_column("'card'", String).label("channel"),
        withdrawal_rows.c.amount,
        withdrawal_rows.c.fee,
        withdrawal_rows.c.currency,
        withdrawal_rows.c.user_id,
        withdrawal_rows.c.card_id,
        false().label("in_suspense"),
        withdrawal_rows.c.created_at,
    ).where(withdrawal_rows.c.status.in_(list(states)))


def _open_selects(kind: FundingKind | None, state: str | None) -> list[Select[Any]]:
    selects: list[Select[Any]] = []
    if kind in (None, "topup"):
        states = [s for s in OPEN_TOPUP_STATES if state in (None, s)]
        if states:
            selects.append(_topups(states))
    if kind in (None, "withdrawal"):
        wanted = [s for s in OPEN_WITHDRAWAL_STATES if state in (None, s)]
        if wanted:
            selects.append(_withdrawals(wanted))
    return selects


async def open_funding(
    conn: AsyncConnection,
    *,
    kind: FundingKind | None,
    state: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[PendingRecord]:
    """Up to ``limit`` unfinished top-ups and withdrawals, oldest first (``created_at``,
    then id), of ``kind`` and ``state`` when given, from after the position ``after``;
    with the customer's phone and the card's bank and last four digits."""
    selects = _open_selects(kind, state)
    if not selects:
        return []
    both = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("open_funding")
    query = (
        select(both, users.c.phone, cards.c.bank_name, cards.c.last_four)
        .join(users, users.c.id == both.c.user_id)
        .outerjoin(cards, cards.c.id == both.c.card_id)
    )
    if after is not None:
        created_at, item_id = after
        query = query.where(
            or_(
                both.c.created_at > created_at,
                and_(both.c.created_at == created_at, both.c.id > item_id),
            )
        )
    query = query.order_by(both.c.created_at, both.c.id).limit(limit)
    return [PendingRecord.of(row) for row in await conn.execute(query)]


async def open_funding_groups(conn: AsyncConnection) -> list[PendingGroup]:
    """Every unfinished top-up and withdrawal counted by kind, state and currency."""
    groups: list[PendingGroup] = []
    for kind, table, states in (
        ("topup", topups, OPEN_TOPUP_STATES),
        ("withdrawal", withdrawal_rows, OPEN_WITHDRAWAL_STATES),
    ):
        query = (
            select(
                table.c.status,
                table.c.currency,
                func.count().label("events"),
                func.sum(table.c.amount).label("total"),
                func.min(table.c.created_at).label("oldest"),
            )
            .where(table.c.status.in_(list(states)))
            .group_by(table.c.status, table.c.currency)
        )
        for row in await conn.execute(query):
            groups.append(
                PendingGroup(
                    kind="topup" if kind == "topup" else "withdrawal",
                    state=row.status,
                    count=int(row.events),
                    total=Money(int(row.total), row.currency),
                    oldest_created_at=as_utc(row.oldest),
                )
            )
    return groups


async def suspense_balances(conn: AsyncConnection) -> list[Money]:
    """The money carried in suspense, one amount per currency: the accounts' credit
    balance (suspense is debit-normal and a top-up in doubt is credited to it), zero when
    nothing is in doubt."""
    query = (
        select(ledger_accounts.c.posted, ledger_accounts.c.currency)
        .where(ledger_accounts.c.kind == SUSPENSE_KIND)
        .order_by(ledger_accounts.c.currency)
    )
    return [Money(-int(row.posted), row.currency) for row in await conn.execute(query)]


# The outbox.

_STATE_ORDER: Final = ("due", "in_flight", "retrying", "scheduled", "dead")


def _state(now: datetime) -> ColumnElement[str]:
    return case(
        (OutboxEvent.status == OutboxStatus.DEAD, literal_column("'dead'", String)),
        (OutboxEvent.available_at <= now, literal_column("'due'", String)),
        (OutboxEvent.claimed_by.is_not(None), literal_column("'in_flight'", String)),
        (OutboxEvent.attempts > 0, literal_column("'retrying'", String)),
        else_=literal_column("'scheduled'", String),
    )


async def outbox_buckets(conn: AsyncConnection, now: datetime) -> list[OutboxBucket]:
    """Events not delivered, counted by topic and state (see :class:`OutboxBucket`)."""
    # The state is computed in a subquery and grouped outside it: PostgreSQL refuses a
    # GROUP BY whose CASE carries its own copy of the ``now`` parameter.
    inner = (
        select(
            OutboxEvent.topic.label("topic"),
            _state(now).label("state"),
            OutboxEvent.attempts.label("attempts"),
            OutboxEvent.available_at.label("available_at"),
        )
        .where(OutboxEvent.status.in_([OutboxStatus.PENDING, OutboxStatus.DEAD]))
        .subquery("undelivered")
    )
    query = select(
        inner.c.topic,
        inner.c.state,
        func.count().label("events"),
        func.max(inner.c.attempts).label("max_attempts"),
        func.min(inner.c.available_at).label("earliest"),
    ).group_by(inner.c.topic, inner.c.state)
    buckets = [
        OutboxBucket(
            topic=row.topic,
            state=row.state,
            count=int(row.events),
            max_attempts=int(row.max_attempts or 0),
            earliest_available_at=as_utc(row.earliest),
        )
        for row in await conn.execute(query)
    ]
    return sorted(buckets, key=lambda b: (b.topic, _STATE_ORDER.index(b.state)))


async def dead_events(
    conn: AsyncConnection, *, topic: str | None, before_id: int | None, limit: int
) -> list[OutboxRecord]:
    """Up to ``limit`` dead events, newest first, of ``topic`` if given, below ``before_id``."""
    query = select(OutboxEvent.__table__).where(OutboxEvent.status == OutboxStatus.DEAD)
    if topic is not None:
        query = query.where(OutboxEvent.topic == topic)
    if before_id is not None:
        query = query.where(OutboxEvent.id < before_id)
    query = query.order_by(OutboxEvent.id.desc()).limit(limit)
    return [OutboxRecord.of(row) for row in await conn.execute(query)]


async def locked_event(conn: AsyncConnection, event_id: int) -> OutboxRecord | None:
    """The event, its row locked for the rest of the unit (a relay's claim waits)."""
    query = select(OutboxEvent.__table__).where(OutboxEvent.id == event_id).with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else OutboxRecord.of(row)


async def revive(conn: AsyncConnection, event_id: int, now: datetime) -> OutboxRecord | None:
    """A dead event due again with a fresh set of attempts (``last_error`` kept, as
    :func:`ewallet.worker.requeue_dead` does); None if it was not dead."""
    statement = (
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, claimed_by=None, available_at=now)
        .returning(*OutboxEvent.__table__.c)
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else OutboxRecord.of(row)
