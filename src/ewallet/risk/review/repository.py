"""All SQL of the review queue's rows (``risk_reviews``).

Functions take the caller's connection and never commit. Deciding a review is one
conditional ``UPDATE ... WHERE state = 'open'`` (:func:`close_review`): of two staff members
deciding the same review at once, the second finds no open row and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone
from ewallet.models.risk import ReviewState
from ewallet.models.tables import risk_reviews, users
from ewallet.risk.review.views import ReviewView


def _review(row: Any) -> ReviewView:
    return ReviewView(
        id=row.id,
        decision_id=row.decision_id,
        user_id=row.user_id,
        payer_phone_masked=mask_phone(row.payer_phone),
        channel=row.channel,
        reference=row.reference,
        subject_id=row.subject_id,
        amount=Money(int(row.amount), row.currency),
        hold_id=row.hold_id,
        state=ReviewState(row.state),
        created_at=as_utc(row.created_at),
        due_at=as_utc(row.due_at),
        decided_at=as_utc(row.decided_at) if row.decided_at else None,
        decided_by=row.decided_by,
        note=row.note,
    )


def _with_payer() -> Any:
    return select(risk_reviews, users.c.phone.label("payer_phone")).join(
        users, users.c.id == risk_reviews.c.user_id
    )


async def insert_review(
    conn: AsyncConnection,
    *,
    review_id: str,
    decision_id: str,
    user_id: str,
    channel: str,
    reference: str,
    subject_id: str,
    amount: Money,
    hold_id: str,
    now: datetime,
    due_at: datetime,
) -> None:
    """Write an open review; a second one for the same ``reference`` is refused by the
    unique constraint (``IntegrityError``)."""
    await conn.execute(
        insert(risk_reviews).values(
            id=review_id,
            decision_id=decision_id,
            user_id=user_id,
            channel=channel,
            reference=reference,
            subject_id=subject_id,
            amount=amount.minor,
            currency=amount.currency,
            hold_id=hold_id,
            state=ReviewState.OPEN.value,
            created_at=now,
            due_at=due_at,
        )
    )


async def review_by_id(conn: AsyncConnection, review_id: str) -> ReviewView | None:
    row = (await conn.execute(_with_payer().where(risk_reviews.c.id == review_id))).first()
    return None if row is None else _review(row)


async def review_by_reference(conn: AsyncConnection, reference: str) -> ReviewView | None:
    statement = _with_payer().where(risk_reviews.c.reference == reference)
    row = (await conn.execute(statement)).first()
    return None if row is None else _review(row)


async def close_review(
    conn: AsyncConnection,
    *,
    review_id: str,
    state: ReviewState,
    staff_id: str,
    note: str,
    now: datetime,
) -> bool:
    """Decide an open review (``approved`` or ``rejected``); False if it is not open (or
    does not exist), and then nothing changed. On PostgreSQL a concurrent decider waits
    for this unit and then finds the row no longer open."""
    statement = (
        update(risk_reviews)
        .where(risk_reviews.c.id == review_id, risk_reviews.c.state == ReviewState.OPEN.value)
        .values(state=state.value, decided_at=now, decided_by=staff_id, note=note)
    )
    return (await conn.execute(statement)).rowcount == 1


async def list_open(
    conn: AsyncConnection,
    *,
    channel: str | None,
    due_before: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ReviewView]:
    """Open reviews, oldest-due first (the ``(state, due_at)`` index); ``due_before``: only
    those due at or before it (overdue); ``after``: the ``(due_at, id)`` to continue past."""
    conditions: list[ColumnElement[bool]] = [risk_reviews.c.state == ReviewState.OPEN.value]
    if channel is not None:
        conditions.append(risk_reviews.c.channel == channel)
    if due_before is not None:
        conditions.append(risk_reviews.c.due_at <= due_before)
    if after is not None:
        due, last_id = after
        conditions.append(
            or_(
                risk_reviews.c.due_at > due,
                and_(risk_reviews.c.due_at == due, risk_reviews.c.id > last_id),
            )
        )
    statement = (
        _with_payer()
        .where(*conditions)
        .order_by(risk_reviews.c.due_at, risk_reviews.c.id)
        .limit(limit)
    )
    return [_review(row) for row in (await conn.execute(statement)).all()]


async def list_decided(
    conn: AsyncConnection,
    *,
    state: ReviewState,
    channel: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ReviewView]:
    """Approved or rejected reviews, the latest decided first; ``after``: the
    ``(decided_at, id)`` to continue past."""
    conditions: list[ColumnElement[bool]] = [risk_reviews.c.state == state.value]
    if channel is not None:
        conditions.append(risk_reviews.c.channel == channel)
    if after is not None:
        decided, last_id = after
        conditions.append(
            or_(
                risk_reviews.c.decided_at < decided,
                and_(risk_reviews.c.decided_at == decided, risk_reviews.c.id < last_id),
            )
        )
    statement = (
        _with_payer()
        .where(*conditions)
        .order_by(risk_reviews.c.decided_at.desc(), risk_reviews.c.id.desc())
        .limit(limit)
    )
    return [_review(row) for row in (await conn.execute(statement)).all()]
