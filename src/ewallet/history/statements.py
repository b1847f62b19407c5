"""Monthly statements: opening balance, every posted movement, closing balance.

A month is an Asia/Shanghai calendar month. The opening balance is the wallet's posted
balance after its last posting before the month began, the closing balance the one
after its last posting in the month, and every movement in between is listed; so
opening + money in - money out = closing, exactly as the ledger has it (``ewallet ledger
verify`` proves the postings, a test proves the statement against them). Pending holds
are not movements yet and are left out. Rendering (CSV, PDF) is in
:mod:`ewallet.history.render`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.history.transactions import (
    HistoryEntry,
    HistoryFilter,
    describe,
    posted_entries,
    posting_query,
    wallet_account_id,
)
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone
from ewallet.models.tables import ledger_accounts as accounts
from ewallet.models.tables import ledger_postings as postings
from ewallet.models.tables import users
from ewallet.risk.limits import CHINA_TIME

MONTH: Final = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = MONTH.fullmatch(text)
        if match is None or not 2000 <= int(match.group(1)) <= 2999:
            raise ValidationFailedError("the month must look like 2026-03")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=CHINA_TIME)

    @property
    def end(self) -> datetime:
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=CHINA_TIME)
        return datetime(self.year, self.month + 1, 1, tzinfo=CHINA_TIME)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Statement:
    user_id: str
    holder_phone: str  # masked
    holder_name: str | None  # masked
    month: Month
    currency: str
    opening: Money
    closing: Money
    total_in: Money
    total_out: Money
    lines: list[HistoryEntry]


async def _opening_balance(conn: AsyncConnection, account_id: int, before: datetime) -> int:
    """The posted balance after the account's last posting strictly before ``before``."""
    value = (
        await conn.execute(
            select(postings.c.balance_after)
            .where(postings.c.account_id == account_id, postings.c.created_at < before)
            .order_by(postings.c.id.desc())
            .limit(1)
        )
    ).scalar()
    return int(value) if value is not None else 0


async def build_statement(
    engine: AsyncEngine, *, user_id: str, month: Month, currency: str = "CNY"
) -> Statement:
    """The statement of ``user_id``'s wallet for ``month``; reads only."""

    async def work(uow: UnitOfWork) -> Statement:
        conn = await uow.connection()
        holder: Any = (
            await conn.execute(
                select(users.c.phone, users.c.real_name_masked).where(users.c.id == user_id)
            )
        ).first()
        if holder is None:
            raise NotFoundError("no such user")
        account_id = await wallet_account_id(conn, user_id, currency)
        lines: list[HistoryEntry] = []
        opening = 0
        if account_id is not None:
            opening = await _opening_balance(conn, account_id, month.start)
            flt = HistoryFilter(since=month.start, until=month.end)
            rows = (
                await conn.execute(posting_query(account_id, flt).order_by(postings.c.id))
            ).all()
            lines = await describe(conn, user_id, await posted_entries(conn, rows))
        money_in = sum(line.amount.minor for line in lines if line.direction == "in")
        money_out = sum(line.amount.minor for line in lines if line.direction == "out")
        closing = lines[-1].balance_after.minor if lines and lines[-1].balance_after else opening
        if opening + money_in - money_out != closing:
            # The ledger's own invariant; if it ever fails, no statement is better than a wrong one.
            raise RuntimeError(f"statement of {user_id} for {month} does not add up")
        return Statement(
            user_id=user_id,
            holder_phone=mask_phone(holder.phone),
            holder_name=holder.real_name_masked,
            month=month,
            currency=currency,
            opening=Money(opening, currency),
            closing=Money(closing, currency),
            total_in=Money(money_in, currency),
            total_out=Money(money_out, currency),
            lines=lines,
        )

    return await run_unit(engine, work, read_only=True)


async def users_with_activity(engine: AsyncEngine, month: Month) -> list[str]:
    """Ids of users whose wallet has a posting in ``month`` or a balance before it."""

    async def work(uow: UnitOfWork) -> list[str]:
        conn = await uow.connection()
        statement = (
            select(accounts.c.code)
            .where(accounts.c.kind == "wallet")
            .where(
                select(postings.c.id)
                .where(postings.c.account_id == accounts.c.id, postings.c.created_at < month.end)
                .exists()
            )
            .order_by(accounts.c.code)
        )
        codes = (await conn.execute(statement)).scalars().all()
        return sorted({code.split(":")[1] for code in codes})

    return await run_unit(engine, work, read_only=True)
