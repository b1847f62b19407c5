"""A user's transaction history, read from the ledger postings of their wallet.

The ledger is the source: every item is a posting on the user's wallet account (one
per ledger transaction) or a pending hold on it (a withdrawal in progress, status
``pending``). Business rows only add a description of the other side -- the payee of a
transfer, the card of a top-up or withdrawal, the merchant of a payment -- looked up by
the ids the ledger entry carries in its metadata. An entry whose kind or metadata this
module does not know still shows, as its ledger kind with no counterparty: a new feature
never breaks the history.

Items are newest first. Pending holds are listed at the top of the first page (a user
has only a few in flight); the cursor then walks the postings by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.ledger import TransactionKind, chart
from ewallet.ledger import repository as ledger_repository
from ewallet.models.tables import cards, topups, withdrawals
from ewallet.models.tables import ledger_holds as holds
from ewallet.models.tables import ledger_postings as postings
from ewallet.models.tables import ledger_transactions as transactions
from ewallet.transfers.service import Party, load_transfers

# Only the two columns history shows; the merchants feature owns the table.
merchants = table("merchants", column("id"), column("name"))

TYPES: Final = tuple(kind.value for kind in TransactionKind)
PSP_NAMES: Final = {"alipay": "支付宝", "wechat_pay": "微信支付", "counter": "柜台现金"}

Direction = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: str  # the ledger transaction's id, or the hold's while it is pending
    type: str
    direction: Direction
    amount: Money
    balance_after: Money | None  # None while pending: nothing has been posted yet
    counterparty: str | None
    status: Literal["succeeded", "pending", "reversed"]
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    type: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        if self.since and self.until and self.since >= self.until:
            raise ValidationFailedError("'from' must be before 'to'")


def _party(party: Party) -> str:
    return (
        f"{party.name_masked} ({party.phone_masked})" if party.name_masked else party.phone_masked
    )


def _card(bank_name: str | None, last_four: str | None) -> str | None:
    if bank_name is None:
        return None
    return f"{bank_name} ({last_four})" if last_four else bank_name


@dataclass(slots=True)
class _Raw:
    """An entry before its counterparty is known."""

    id: str
    kind: str
    signed: int  # debit positive: for a wallet (credit-normal), money going out
    currency: str
    balance_after: int | None
    status: Literal["succeeded", "pending", "reversed"]
    created_at: datetime
    metadata: dict[str, Any]


async def describe(conn: AsyncConnection, user_id: str, raws: Sequence[_Raw]) -> list[HistoryEntry]:
    """Add the other side of each entry from the business rows its metadata names."""

    def ids(key: str) -> list[str]:
        return sorted({str(r.metadata[key]) for r in raws if isinstance(r.metadata.get(key), str)})

    found_transfers = await load_transfers(conn, ids("transfer_id"))
    withdrawal_cards = await _rows(
        conn,
        select(withdrawals.c.id, cards.c.bank_name, cards.c.last_four)
        .join(cards, cards.c.id == withdrawals.c.card_id)
        .where(withdrawals.c.id.in_(ids("withdrawal_id"))),
    )
    topup_rows = await _rows(
        conn,
        select(topups.c.id, topups.c.method, cards.c.bank_name, cards.c.last_four)
        .outerjoin(cards, cards.c.id == topups.c.card_id)
        .where(topups.c.id.in_(ids("topup_id"))),
    )
    merchant_names = await _rows(
        conn, select(merchants.c.id, merchants.c.name).where(merchants.c.id.in_(ids("merchant_id")))
    )
    entries = []
    for raw in raws:
        meta = raw.metadata
        counterparty: str | None = None
        details: dict[str, Any] = {}
        if (found := found_transfers.get(str(meta.get("transfer_id")))) is not None:
            other = found.counterparty_for(user_id)
            counterparty = _party(other)
            details = {"transfer_id": found.id, "memo": found.memo}
        elif (row := withdrawal_cards.get(str(meta.get("withdrawal_id")))) is not None:
            counterparty = _card(row.bank_name, row.last_four)
            details = {"withdrawal_id": row.id}
        elif (row := topup_rows.get(str(meta.get("topup_id")))) is not None:
            counterparty = _card(row.bank_name, row.last_four) or PSP_NAMES.get(row.method)
            details = {"topup_id": row.id, "method": row.method}
        elif (row := merchant_names.get(str(meta.get("merchant_id")))) is not None:
            counterparty = str(row.name)
            details = {
                key: meta[key]
                for key in ("merchant_id", "order_id", "payment_id", "refund_id")
                if key in meta
            }
        entries.append(
            HistoryEntry(
                id=raw.id,
                type=raw.kind,
                direction="out" if raw.signed > 0 else "in",
                amount=Money(abs(raw.signed), raw.currency),
                balance_after=(
                    Money(raw.balance_after, raw.currency)
                    if raw.balance_after is not None
                    else None
                ),
                counterparty=counterparty,
                status=raw.status,
                created_at=raw.created_at,
                details=details,
            )
        )
    return entries


async def _rows(conn: AsyncConnection, statement: Any) -> dict[str, Any]:
    return {row.id: row for row in (await conn.execute(statement)).all()}


def posting_query(account_id: int, flt: HistoryFilter) -> Any:
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


async def posted_entries(conn: AsyncConnection, rows: Iterable[Any]) -> list[_Raw]:
    rows = list(rows)
    reversed_ids = await ledger_repository.reversed_ids(conn, [row.id for row in rows])
    return [
        _Raw(
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


def _hold_query(account_id: int, flt: HistoryFilter) -> Any:
    statement = select(holds).where(
        holds.c.status == "pending",
        or_(holds.c.debit_account_id == account_id, holds.c.credit_account_id == account_id),
    )
    if flt.type is not None:
        statement = statement.where(holds.c.kind == flt.type)
    if flt.since is not None:
        statement = statement.where(holds.c.created_at >= flt.since)
    if flt.until is not None:
        statement = statement.where(holds.c.created_at < flt.until)
    return statement


def _pending(account_id: int, rows: Iterable[Any]) -> list[_Raw]:
    return [
        _Raw(
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


async def wallet_account_id(conn: AsyncConnection, user_id: str, currency: str) -> int | None:
    account = await ledger_repository.get_account_by_code(
        conn, chart.wallet(user_id, currency).code
    )
    return account.id if account else None


async def list_transactions(
    engine: AsyncEngine,
    *,
    user_id: str,
    flt: HistoryFilter,
    limit: int = 20,
    cursor: str | None = None,
    currency: str = "CNY",
) -> Page[HistoryEntry]:
    """The user's entries, newest first (pending holds on the first page)."""
    check_limit(limit)
    before: int | None = None
    if cursor is not None:
        position = decode_cursor(cursor).get("before")
        if not isinstance(position, int):
            raise ValidationFailedError("malformed cursor")
        before = position

    async def work(uow: UnitOfWork) -> Page[HistoryEntry]:
        conn = await uow.connection()
        account_id = await wallet_account_id(conn, user_id, currency)
        if account_id is None:
            return Page(items=[], next_cursor=None)
        pending: list[_Raw] = []
        if before is None:
            hold_rows = await conn.execute(
                _hold_query(account_id, flt).order_by(holds.c.created_at.desc())
            )
            pending = _pending(account_id, hold_rows.all())
        statement = posting_query(account_id, flt).order_by(postings.c.id.desc())
        if before is not None:
            statement = statement.where(postings.c.id < before)
        rows = (await conn.execute(statement.limit(limit + 1))).all()
        page_rows = rows[:limit]
        next_cursor = (
            encode_cursor({"before": int(page_rows[-1].posting_id)}) if len(rows) > limit else None
        )
        items = await describe(conn, user_id, pending + await posted_entries(conn, page_rows))
        return Page(items=items, next_cursor=next_cursor)

    return await run_unit(engine, work, read_only=True)


async def get_transaction(
    engine: AsyncEngine, *, user_id: str, entry_id: str, currency: str = "CNY"
) -> HistoryEntry:
    """One entry of the user's own wallet (a ledger transaction or a pending hold)."""

    async def work(uow: UnitOfWork) -> HistoryEntry | None:
        conn = await uow.connection()
        account_id = await wallet_account_id(conn, user_id, currency)
        if account_id is None:
            return None
        rows = (
            await conn.execute(
                posting_query(account_id, HistoryFilter()).where(transactions.c.id == entry_id)
            )
        ).all()
        raws = await posted_entries(conn, rows[:1])
        if not raws:
            hold_rows = (
                await conn.execute(
                    select(holds).where(
                        holds.c.id == entry_id,
                        or_(
                            holds.c.debit_account_id == account_id,
                            holds.c.credit_account_id == account_id,
                        ),
                    )
                )
            ).all()
            raws = _pending(account_id, [row for row in hold_rows if row.status == "pending"])
        if not raws:
            return None
        return (await describe(conn, user_id, raws))[0]

    entry = await run_unit(engine, work, read_only=True)
    if entry is None:
        raise NotFoundError("no such transaction")
    return entry
