"""Reading counter deposits (newest first, by cursor) and the large-cash records by day.

Large-cash reporting days are Beijing days (Asia/Shanghai, UTC+8, no daylight saving):
``from`` and ``to`` are inclusive dates, as a report for regulators is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.counter.views import DepositView, LargeCashView
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.models.tables import counter_deposits as deposits
from ewallet.models.tables import large_cash_records as large_cash
from ewallet.risk.limits import CHINA_TIME

# One report covers at most this many days (a year and a day: leap years).
MAX_REPORT_DAYS: Final = 366
DEFAULT_REPORT_DAYS: Final = 31


async def list_deposits(
    engine: AsyncEngine, *, status: str | None, limit: int, cursor: str | None
) -> Page[DepositView]:
    """Deposits newest first, optionally of one ``status``; ``next_cursor`` when more remain."""
    limit = check_limit(limit)
    after = _position(cursor) if cursor is not None else None

    async def work(uow: UnitOfWork) -> list[Any]:
        query = select(deposits)
        if status is not None:
            query = query.where(deposits.c.status == status)
        if after is not None:
            created_at, deposit_id = after
            query = query.where(
                or_(
                    deposits.c.created_at < created_at,
                    and_(deposits.c.created_at == created_at, deposits.c.id < deposit_id),
                )
            )
        query = query.order_by(deposits.c.created_at.desc(), deposits.c.id.desc())
        return list(await (await uow.connection()).execute(query.limit(limit + 1)))

    rows = await run_unit(engine, work, read_only=True)
    items = [DepositView.of(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"at": last.created_at.isoformat(), "id": last.id})
    return Page(items, next_cursor)


def _position(cursor: str) -> tuple[datetime, str]:
    position = decode_cursor(cursor)
    at, deposit_id = position.get("at"), position.get("id")
    if not isinstance(at, str) or not isinstance(deposit_id, str):
        raise ValidationFailedError("malformed cursor")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationFailedError("malformed cursor") from None
    if moment.tzinfo is None:
        raise ValidationFailedError("malformed cursor")
    return moment, deposit_id


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """The Beijing days ``first``..``last`` (inclusive) as the UTC span [start, end)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, CHINA_TIME)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, CHINA_TIME)


def report_window(clock: Clock, first: date | None, last: date | None) -> ReportWindow:
    """The days asked for; by default the last 31 days up to today (Beijing time)."""
    last = last or clock.now().astimezone(CHINA_TIME).date()
    first = first or last - timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if first > last:
        raise ValidationFailedError("from must not be after to")
    if (last - first).days + 1 > MAX_REPORT_DAYS:
        raise ValidationFailedError(f"a report covers at most {MAX_REPORT_DAYS} days")
    return ReportWindow(first, last)


async def list_large_cash(engine: AsyncEngine, window: ReportWindow) -> list[LargeCashView]:
    """Every large-cash record taken in ``window``, oldest first, with the deposit status."""
    start, end = window.start, window.end

    async def work(uow: UnitOfWork) -> list[Any]:
        query = (
            select(large_cash, deposits.c.status.label("deposit_status"))
            .join(deposits, deposits.c.id == large_cash.c.deposit_id)
            .where(large_cash.c.occurred_at >= start, large_cash.c.occurred_at < end)
            .order_by(large_cash.c.occurred_at, large_cash.c.id)
        )
        return list(await (await uow.connection()).execute(query))

    return [LargeCashView.of(row) for row in await run_unit(engine, work, read_only=True)]
