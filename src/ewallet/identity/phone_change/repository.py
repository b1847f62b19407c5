"""Queries on ``phone_change_requests`` (Core, in the caller's transaction, no commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.phone_change.views import PhoneChangeRequestView
from ewallet.models.phone_change import PhoneChangeState
from ewallet.models.tables import phone_change_requests as requests


def _view(row: Any) -> PhoneChangeRequestView:
    return PhoneChangeRequestView(
        id=row.id,
        user_id=row.user_id,
        old_phone=row.old_phone,
        new_phone=row.new_phone,
        state=PhoneChangeState(row.state),
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        note=row.note,
    )


async def insert_request(
    conn: AsyncConnection,
    *,
    request_id: str,
    user_id: str,
    old_phone: str,
    new_phone: str,
    now: datetime,
) -> None:
    await conn.execute(
        insert(requests).values(
            id=request_id,
            user_id=user_id,
            old_phone=old_phone,
            new_phone=new_phone,
            state=PhoneChangeState.PENDING.value,
            created_at=now,
        )
    )


async def request_by_id(conn: AsyncConnection, request_id: str) -> PhoneChangeRequestView | None:
    row = (await conn.execute(select(requests).where(requests.c.id == request_id))).first()
    return None if row is None else _view(row)


async def pending_request_of(conn: AsyncConnection, user_id: str) -> PhoneChangeRequestView | None:
    statement = select(requests).where(
        requests.c.user_id == user_id, requests.c.state == PhoneChangeState.PENDING.value
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else _view(row)


async def requests_of_user(
    conn: AsyncConnection, user_id: str, *, limit: int
) -> list[PhoneChangeRequestView]:
    statement = (
        select(requests)
        .where(requests.c.user_id == user_id)
        .order_by(requests.c.created_at.desc(), requests.c.id.desc())
        .limit(limit)
    )
    return [_view(row) for row in await conn.execute(statement)]


async def list_requests(
    conn: AsyncConnection,
    *,
    state: PhoneChangeState,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[PhoneChangeRequestView]:
    """Requests in ``state``, oldest first (the review queue's order), after a position."""
    statement = select(requests).where(requests.c.state == state.value)
    if after is not None:
        at, request_id = after
        statement = statement.where(
            or_(
                requests.c.created_at > at,
                and_(requests.c.created_at == at, requests.c.id > request_id),
            )
        )
    statement = statement.order_by(requests.c.created_at, requests.c.id).limit(limit)
    return [_view(row) for row in await conn.execute(statement)]


async def decide(
    conn: AsyncConnection,
    *,
    request_id: str,
    state: PhoneChangeState,
    staff_id: str | None,
    note: str | None,
    now: datetime,
) -> bool:
    """Decide a pending request; False when it was not pending (decided already)."""
    decided = await conn.execute(
        update(requests)
        .where(requests.c.id == request_id, requests.c.state == PhoneChangeState.PENDING.value)
        .values(state=state.value, decided_at=now, decided_by=staff_id, note=note)
    )
    return decided.rowcount == 1
