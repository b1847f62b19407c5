"""All SQL of money requests and split bills. Functions never commit.

A request changes state only by a conditional ``UPDATE ... WHERE status = 'open'`` (and not
yet expired, for the payer's and the requester's own moves): of two racing moves, the
database lets exactly one through, and the other sees no row to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone
from ewallet.models.identity import User
from ewallet.models.money_requests import MoneyRequestStatus
from ewallet.models.tables import money_request_splits, money_requests, users
from ewallet.money_requests.views import MoneyRequestView, SplitBillView, status_at
from ewallet.transfers.views import Party

_requester = users.alias("requester")
_payer = users.alias("payer")


async def user_by_id(session: AsyncSession, user_id: str, *, fresh: bool = False) -> User | None:
    return await session.get(User, user_id, populate_existing=fresh)


async def insert_split(
    conn: AsyncConnection,
    *,
    split_id: str,
    requester_id: str,
    total: Money,
    note: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        insert(money_request_splits).values(
            id=split_id,
            requester_user_id=requester_id,
            total=total.minor,
            currency=total.currency,
            note=note,
            created_at=now,
        )
    )


async def insert_request(
    conn: AsyncConnection,
    *,
    request_id: str,
    requester_id: str,
    payer_id: str,
    amount: Money,
    note: str | None,
    expires_at: datetime,
    now: datetime,
    split_id: str | None = None,
) -> None:
    await conn.execute(
        insert(money_requests).values(
            id=request_id,
            requester_user_id=requester_id,
            payer_user_id=payer_id,
            amount=amount.minor,
            currency=amount.currency,
            note=note,
            status=MoneyRequestStatus.OPEN,
            split_id=split_id,
            transfer_id=None,
            expires_at=expires_at,
            created_at=now,
            decided_at=None,
        )
    )


def _select_views() -> Any:
    return (
        select(
            money_requests,
            _requester.c.phone.label("requester_phone"),
            _requester.c.real_name_masked.label("requester_name"),
            _payer.c.phone.label("payer_phone"),
            _payer.c.real_name_masked.label("payer_name"),
        )
        .join(_requester, _requester.c.id == money_requests.c.requester_user_id)
        .join(_payer, _payer.c.id == money_requests.c.payer_user_id)
    )


def _view(row: Row[Any], now: datetime) -> MoneyRequestView:
    expires_at = as_utc(row.expires_at)
    return MoneyRequestView(
        id=row.id,
        requester=Party(row.requester_user_id, mask_phone(row.requester_phone), row.requester_name),
        payer=Party(row.payer_user_id, mask_phone(row.payer_phone), row.payer_name),
        amount=Money(row.amount, row.currency),
        note=row.note,
        status=status_at(row.status, expires_at, now),
        split_id=row.split_id,
        transfer_id=row.transfer_id,
        expires_at=expires_at,
        created_at=as_utc(row.created_at),
        decided_at=None if row.decided_at is None else as_utc(row.decided_at),
    )


async def load_requests(
    conn: AsyncConnection, ids: Sequence[str], *, now: datetime
) -> dict[str, MoneyRequestView]:
    rows = await conn.execute(_select_views().where(money_requests.c.id.in_(list(ids))))
    return {row.id: _view(row, now) for row in rows}


async def requests_of(
    conn: AsyncConnection,
    *,
    user_id: str,
    incoming: bool,
    limit: int,
    before: tuple[datetime, str] | None,
    now: datetime,
) -> list[MoneyRequestView]:
    """The user's requests, newest first: asked of them (``incoming``) or by them."""
    column = money_requests.c.payer_user_id if incoming else money_requests.c.requester_user_id
    statement = _select_views().where(column == user_id)
    if before is not None:
        at, last_id = before
        statement = statement.where(
            or_(
                money_requests.c.created_at < at,
                and_(money_requests.c.created_at == at, money_requests.c.id < last_id),
            )
        )
    statement = statement.order_by(
        money_requests.c.created_at.desc(), money_requests.c.id.desc()
    ).limit(limit)
    return [_view(row, now) for row in await conn.execute(statement)]


async def split_requests(
    conn: AsyncConnection, split_id: str, *, now: datetime
) -> list[MoneyRequestView]:
    statement = (
        _select_views()
        .where(money_requests.c.split_id == split_id)
        .order_by(money_requests.c.created_at, money_requests.c.id)
    )
    return [_view(row, now) for row in await conn.execute(statement)]


async def load_split(
    conn: AsyncConnection, split_id: str, *, now: datetime
) -> tuple[str, SplitBillView] | None:
    """The split bill and its requester's id, or None."""
    row = (
        await conn.execute(
            select(money_request_splits).where(money_request_splits.c.id == split_id)
        )
    ).first()
    if row is None:
        return None
    shares = await split_requests(conn, split_id, now=now)
    view = SplitBillView(
        id=row.id,
        total=Money(row.total, row.currency),
        note=row.note,
        created_at=as_utc(row.created_at),
        shares=tuple(shares),
    )
    return row.requester_user_id, view


async def claim_open(
    conn: AsyncConnection,
    *,
    request_id: str,
    status: MoneyRequestStatus,
    now: datetime,
    payer_id: str | None = None,
    requester_id: str | None = None,
    transfer_id: str | None = None,
) -> bool:
    """Move an open request to ``status`` if it is still open and (unless it is being
    expired) not yet expired, and belongs to the given party; whether it did."""
    conditions = [money_requests.c.id == request_id, money_requests.c.status == "open"]
    if status == MoneyRequestStatus.EXPIRED:
        conditions.append(money_requests.c.expires_at <= now)
    else:
        conditions.append(money_requests.c.expires_at > now)
    if payer_id is not None:
        conditions.append(money_requests.c.payer_user_id == payer_id)
    if requester_id is not None:
        conditions.append(money_requests.c.requester_user_id == requester_id)
    result = await conn.execute(
        update(money_requests)
        .where(*conditions)
        .values(status=status.value, transfer_id=transfer_id, decided_at=now)
    )
    return result.rowcount == 1
