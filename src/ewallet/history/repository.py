"""All SQL of the history: a wallet's postings and pending holds, and the business rows
that describe the other side of an entry (cards, top-ups, merchants).

Functions take the caller's connection and only read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.history.views import EntryStatus, HistoryFilter
from ewallet.ledger import chart
from ewallet.ledger import repository as ledger_repository
from ewallet.models.tables import cards, merchants, topups, users, withdrawals
from ewallet.models.tables import ledger_accounts as accounts
from ewallet.models.tables import ledger_holds as holds
from ewallet.models.tables import ledger_postings as postings
from ewallet.models.tables import ledger_transactions as transactions

PENDING_HOLD = "pending"  # ledger_holds.status of a hold still in flight


@dataclass(slots=True)
class RawEntry:
    """An entry of a wallet before its counterparty is known."""

    id: str
    kind: str
    signed: int  # debit positive: for a wallet (credit-normal), money going out
    currency: str
    balance_after: int | None
    status: EntryStatus
    created_at: datetime
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PostedPage:
    entries: list[RawEntry]
    next_before: int | None  # the posting id the next page starts below; None: no more


@dataclass(frozen=True, slots=True)
class CardRef:
    bank_name: str | None
    last_four: str | None


@dataclass(frozen=True, slots=True)
class TopupRef:
    method: str
    card: CardRef


@dataclass(frozen=True, slots=True)
class Holder:
    phone: str
    real_name_masked: str | None


async def wallet_account_id(conn: AsyncConnection, user_id: str, currency: str) -> int | None:
    account = await ledger_repository.get_account_by_code(
        conn, chart.wallet(user_id, currency).code
    )
    return account.id if account else None


async def holder(conn: AsyncConnection, user_id: str) -> Holder | None:
    statement = select(users.c.phone, users.c.real_name_masked).where(users.c.id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else Holder(row.phone, row.real_name_masked)


def _posting_query(account_id: int, flt: HistoryFilter) -> Select[Any]:
    statement = (
        select(
            postings.c.id.label("posting_id"),
            postings.c.amount,
            postings.c.currency,
            postings.c.balance_after,
            postings.c.created_at,
            transactions.c.id,
            transactions.c.kind,
            transactions.c.metadata.label("txn_metadata"),
        )
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .where(postings.c.account_id == account_id)
    )
    if flt.type is not None:
        statement = statement.where(transactions.c.kind == flt.type)
    if flt.since is not None:
        statement = statement.where(postings.c.created_at >= flt.since)
    if flt.until is not None:
        statement = statement.where(postings.c.created_at < flt.until)
    return statement


async def _posted(conn: AsyncConnection, rows: Sequence[Any]) -> list[RawEntry]:
    reversed_ids = await ledger_repository.reversed_ids(conn, [row.id for row in rows])
    return [
        RawEntry(
            id=row.id,
            kind=row.kind,
            signed=int(row.amount),
            currency=row.currency,
            balance_after=int(row.balance_after),
            status="reversed" if row.id in reversed_ids else "succeeded",
            created_at=row.created_at,
            metadata=dict(row.txn_metadata or {}),
        )
        for row in rows
    ]


async def posted_page(
    conn: AsyncConnection, account_id: int, flt: HistoryFilter, *, before: int | None, limit: int
) -> PostedPage:
    """Up to ``limit`` postings of the account, newest first, below posting ``before``."""
    statement = _posting_query(account_id, flt).order_by(postings.c.id.desc())
    if before is not None:
        statement = statement.where(postings.c.id < before)
    rows = (await conn.execute(statement.limit(limit + 1))).all()
    page_rows = rows[:limit]
    next_before = int(page_rows[-1].posting_id) if len(rows) > limit else None
    return PostedPage(await _posted(conn, page_rows), next_before)


async def posted_in_order(
    conn: AsyncConnection, account_id: int, flt: HistoryFilter
) -> list[RawEntry]:
    """Every posting of the account the filter selects, oldest first (a statement)."""
    statement = _posting_query(account_id, flt).order_by(postings.c.id)
    return await _posted(conn, (await conn.execute(statement)).all())


async def posted_entry(conn: AsyncConnection, account_id: int, entry_id: str) -> RawEntry | None:
    """The account's posting of ledger transaction ``entry_id``, if it has one."""
    statement = _posting_query(account_id, HistoryFilter()).where(transactions.c.id == entry_id)
    rows = (await conn.execute(statement)).all()
    found = await _posted(conn, rows[:1])
    return found[0] if found else None


def _pending(account_id: int, rows: Iterable[Any]) -> list[RawEntry]:
    return [
        RawEntry(
            id=row.id,
            kind=row.kind,
            signed=int(row.amount) if row.debit_account_id == account_id else -int(row.amount),
            currency=row.currency,
            balance_after=None,
            status="pending",
            created_at=row.created_at,
            metadata=dict(row.metadata or {}),
        )
        for row in rows
    ]


def _on_account(account_id: int) -> Any:
    return or_(holds.c.debit_account_id == account_id, holds.c.credit_account_id == account_id)


async def pending_holds(
    conn: AsyncConnection, account_id: int, flt: HistoryFilter
) -> list[RawEntry]:
    """The account's holds still in flight the filter selects, newest first."""
    statement = select(holds).where(holds.c.status == PENDING_HOLD, _on_account(account_id))
    if flt.type is not None:
        statement = statement.where(holds.c.kind == flt.type)
    if flt.since is not None:
        statement = statement.where(holds.c.created_at >= flt.since)
    if flt.until is not None:
        statement = statement.where(holds.c.created_at < flt.until)
    rows = (await conn.execute(statement.order_by(holds.c.created_at.desc()))).all()
    return _pending(account_id, rows)


async def pending_hold(conn: AsyncConnection, account_id: int, hold_id: str) -> RawEntry | None:
    """The account's hold ``hold_id`` while it is still in flight."""
    statement = select(holds).where(holds.c.id == hold_id, _on_account(account_id))
    rows = [row for row in (await conn.execute(statement)).all() if row.status == PENDING_HOLD]
    found = _pending(account_id, rows)
    return found[0] if found else None


async def opening_balance(conn: AsyncConnection, account_id: int, before: datetime) -> int:
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


async def wallet_owners_with_postings_before(conn: AsyncConnection, end: datetime) -> list[str]:
    """Ids of users whose wallet has a posting before ``end``, sorted."""
    statement = (
        select(accounts.c.code)
        .where(accounts.c.kind == "wallet")
        .where(
            select(postings.c.id)
            .where(postings.c.account_id == accounts.c.id, postings.c.created_at < end)
            .exists()
        )
        .order_by(accounts.c.code)
    )
    codes = (await conn.execute(statement)).scalars().all()
    return sorted({code.split(":")[1] for code in codes})


async def withdrawal_cards(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, CardRef]:
    """The card each withdrawal paid out to, by withdrawal id."""
    statement = (
        select(withdrawals.c.id, cards.c.bank_name, cards.c.last_four)
        .join(cards, cards.c.id == withdrawals.c.card_id)
        .where(withdrawals.c.id.in_(list(ids)))
    )
    return {
        row.id: CardRef(row.bank_name, row.last_four)
        for row in (await conn.execute(statement)).all()
    }


async def topup_sources(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, TopupRef]:
    """Each top-up's method and card (if a card paid it), by top-up id."""
    statement = (
        select(topups.c.id, topups.c.method, cards.c.bank_name, cards.c.last_four)
        .outerjoin(cards, cards.c.id == topups.c.card_id)
        .where(topups.c.id.in_(list(ids)))
    )
    return {
        row.id: TopupRef(row.method, CardRef(row.bank_name, row.last_four))
        for row in (await conn.execute(statement)).all()
    }


async def merchant_names(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, str]:
    """Merchants' names by id."""
    statement = select(merchants.c.id, merchants.c.name).where(merchants.c.id.in_(list(ids)))
    return {row.id: str(row.name) for row in (await conn.execute(statement)).all()}
