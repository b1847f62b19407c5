"""All SQL of the history: a wallet's postings and pending holds, and the business rows
that describe the other side of an entry (transfers, cards, top-ups, merchants, billers,
transfers to another person's card).

Functions take the caller's connection and only read. A page of the history is three
statements: the pending holds, the postings (each with whether it was reversed), and the
rows describing them all (one ``UNION ALL``, none when no entry names one). The list's
statements are built once per shape of filter, with bound parameters, so a page pays no
SQLAlchemy construction or cache-key work for them.

A transfer to another person's card is a ``withdrawal`` in the ledger whose metadata names
a ``card_transfer_id``; the history shows it as its own type, :data:`CARD_TRANSFER`. So the
type filter ``card_transfer`` selects those withdrawals, and ``withdrawal`` the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Final

from sqlalchemy import (
    CompoundSelect,
    Select,
    bindparam,
    exists,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.history.views import CARD_TRANSFER, EntryStatus, HistoryFilter
from ewallet.kit.phone import mask_phone
from ewallet.ledger import chart
from ewallet.models.tables import (
    bill_payments,
    billers,
    card_transfers,
    cards,
    merchants,
    topups,
    transfers,
    users,
    withdrawals,
)
from ewallet.models.tables import ledger_accounts as accounts
from ewallet.models.tables import ledger_holds as holds
from ewallet.models.tables import ledger_postings as postings
from ewallet.models.tables import ledger_transactions as transactions
from ewallet.transfers.views import Party

PENDING_HOLD = "pending"  # ledger_holds.status of a hold still in flight
WITHDRAWAL = "withdrawal"  # the ledger kind of a card transfer's amount (module doc)
# How the type filter selects: no filter, the ledger kind, or a withdrawal that is (or is
# not) a card transfer.
KindMode = str | None


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
class TransferRef:
    """A transfer as the history describes it: both parties (masked) and the memo."""

    id: str
    payer: Party
    payee: Party
    memo: str | None

    def counterparty_for(self, user_id: str) -> Party:
        return self.payee if user_id == self.payer.user_id else self.payer


@dataclass(frozen=True, slots=True)
class BillRef:
    """The biller a bill payment paid and the category of the bill."""

    biller_id: str
    name_zh: str
    name_en: str
    category: str


@dataclass(frozen=True, slots=True)
class CardTransferRef:
    """A transfer to another person's card: the bank, the card's last four, the payee's
    name as typed (masked where shown)."""

    id: str
    bank_name: str
    card_last_four: str
    payee_name: str


@dataclass(frozen=True, slots=True)
class Descriptions:
    """The business rows named by a page's entries, by id (ids naming nothing are left out)."""

    transfers: dict[str, TransferRef] = field(default_factory=dict)
    withdrawal_cards: dict[str, CardRef] = field(default_factory=dict)
    topups: dict[str, TopupRef] = field(default_factory=dict)
    merchant_names: dict[str, str] = field(default_factory=dict)
    bills: dict[str, BillRef] = field(default_factory=dict)
    card_transfers: dict[str, CardTransferRef] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Holder:
    phone: str
    real_name_masked: str | None


# Built once (every history page and the staff's customer view find the wallet first):
# the id alone, not the account and its balance.
_account_id = select(accounts.c.id).where(accounts.c.code == bindparam("code"))


async def wallet_account_id(conn: AsyncConnection, user_id: str, currency: str) -> int | None:
    code = chart.wallet(user_id, currency).code
    found = (await conn.execute(_account_id, {"code": code})).scalar()
    return None if found is None else int(found)


async def holder(conn: AsyncConnection, user_id: str) -> Holder | None:
    statement = select(users.c.phone, users.c.real_name_masked).where(users.c.id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else Holder(row.phone, row.real_name_masked)


_reversal = transactions.alias("reversal")
# Whether a later ledger transaction reverses this one (ledger_transactions.reverses_id
# is unique where set, and indexed).
_reversed = exists().where(_reversal.c.reverses_id == transactions.c.id).label("reversed")


def _card_transfer_id(metadata: Any) -> Any:
    """The ``card_transfer_id`` a ledger row's metadata names (SQL NULL if none)."""
    return metadata["card_transfer_id"].as_string()


def _by_kind(metadata: Any, kind_column: Any, mode: KindMode, kind: Any) -> list[Any]:
    """The conditions of the type filter (:func:`_kind_mode`) on a ledger row."""
    if mode is None:
        return []
    if mode == CARD_TRANSFER:
        return [kind_column == WITHDRAWAL, _card_transfer_id(metadata).is_not(None)]
    if mode == WITHDRAWAL:
        return [kind_column == WITHDRAWAL, _card_transfer_id(metadata).is_(None)]
    return [kind_column == kind]


def _kind_mode(kind: str | None) -> KindMode:
    """``card_transfer`` and ``withdrawal`` read the metadata too; any other type is the
    ledger kind alone (``kind``)."""
    if kind is None:
        return None
    return kind if kind in (CARD_TRANSFER, WITHDRAWAL) else "kind"


def _posting_query(
    account_id: Any,
    *,
    kind: Any = None,
    since: Any = None,
    until: Any = None,
    mode: KindMode = None,
) -> Select[Any]:
    """The account's postings of type ``kind`` (its :func:`_kind_mode` ``mode``) created in
    ``[since, until)`` (None: no bound); each value a Python value or a bound parameter of a
    statement built once."""
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
            _reversed,
        )
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .where(postings.c.account_id == account_id)
    )
    statement = statement.where(*_by_kind(transactions.c.metadata, transactions.c.kind, mode, kind))
    if since is not None:
        statement = statement.where(postings.c.created_at >= since)
    if until is not None:
        statement = statement.where(postings.c.created_at < until)
    return statement


Shape = tuple[KindMode, bool, bool]


def _values(flt: HistoryFilter) -> dict[str, Any]:
    return {"kind": flt.type, "since": flt.since, "until": flt.until}


def _given(flt: HistoryFilter) -> dict[str, Any]:
    """The filter as plain values for a statement built for it alone."""
    return {**_values(flt), "mode": _kind_mode(flt.type)}


def _bound(shape: Shape) -> dict[str, Any]:
    """Bound parameters for the filter's fields that are set (``_shape``)."""
    mode, since, until = shape
    return {
        "kind": bindparam("kind") if mode == "kind" else None,
        "since": bindparam("since") if since else None,
        "until": bindparam("until") if until else None,
        "mode": mode,
    }


def _shape(flt: HistoryFilter) -> Shape:
    """How the filter selects: one statement is built per shape."""
    return (_kind_mode(flt.type), flt.since is not None, flt.until is not None)


@cache
def _page_statement(shape: Shape, *, after_cursor: bool) -> Select[Any]:
    statement = _posting_query(bindparam("account_id"), **_bound(shape))
    if after_cursor:
        statement = statement.where(postings.c.id < bindparam("before"))
    return statement.order_by(postings.c.id.desc()).limit(bindparam("limit"))


def _posted(rows: Sequence[Any]) -> list[RawEntry]:
    return [
        RawEntry(
            id=row.id,
            kind=row.kind,
            signed=int(row.amount),
            currency=row.currency,
            balance_after=int(row.balance_after),
            status="reversed" if row.reversed else "succeeded",
            created_at=row.created_at,
            metadata=dict(row.txn_metadata or {}),
        )
        for row in rows
    ]


async def posted_page(
    conn: AsyncConnection, account_id: int, flt: HistoryFilter, *, before: int | None, limit: int
) -> PostedPage:
    """Up to ``limit`` postings of the account, newest first, below posting ``before``."""
    statement = _page_statement(_shape(flt), after_cursor=before is not None)
    values = {**_values(flt), "account_id": account_id, "before": before, "limit": limit + 1}
    rows = (await conn.execute(statement, values)).all()
    page_rows = rows[:limit]
    next_before = int(page_rows[-1].posting_id) if len(rows) > limit else None
    return PostedPage(_posted(page_rows), next_before)


async def posted_in_order(
    conn: AsyncConnection, account_id: int, flt: HistoryFilter
) -> list[RawEntry]:
    """Every posting of the account the filter selects, oldest first (a statement)."""
    statement = _posting_query(account_id, **_given(flt)).order_by(postings.c.id)
    return _posted((await conn.execute(statement)).all())


async def posted_entry(conn: AsyncConnection, account_id: int, entry_id: str) -> RawEntry | None:
    """The account's posting of ledger transaction ``entry_id``, if it has one."""
    statement = _posting_query(account_id).where(transactions.c.id == entry_id)
    rows = (await conn.execute(statement)).all()
    found = _posted(rows[:1])
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


def _on_account(account_id: Any) -> Any:
    return or_(holds.c.debit_account_id == account_id, holds.c.credit_account_id == account_id)


@cache
def _pending_statement(shape: Shape) -> Select[Any]:
    bound = _bound(shape)
    since, until = bound["since"], bound["until"]
    statement = select(holds).where(
        holds.c.status == PENDING_HOLD,
        _on_account(bindparam("account_id")),
        *_by_kind(holds.c.metadata, holds.c.kind, bound["mode"], bound["kind"]),
    )
    if since is not None:
        statement = statement.where(holds.c.created_at >= since)
    if until is not None:
        statement = statement.where(holds.c.created_at < until)
    return statement.order_by(holds.c.created_at.desc())


async def pending_holds(
    conn: AsyncConnection, account_id: int, flt: HistoryFilter
) -> list[RawEntry]:
    """The account's holds still in flight the filter selects, newest first."""
    statement = _pending_statement(_shape(flt))
    rows = (await conn.execute(statement, {**_values(flt), "account_id": account_id})).all()
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


def _nulls(count: int) -> list[Any]:
    return [null() for _ in range(count)]


_payer = users.alias("payer")
_payee = users.alias("payee")
# One row per business row named, in the same columns whatever its source: ``source``,
# ``id`` and up to seven texts (what each source puts in them: ``descriptions``).
_describing: Final[CompoundSelect[Any]] = union_all(
    select(
        literal("transfer").label("source"),
        transfers.c.id,
        _payer.c.id.label("t1"),
        _payer.c.phone.label("t2"),
        _payer.c.real_name_masked.label("t3"),
        _payee.c.id.label("t4"),
        _payee.c.phone.label("t5"),
        _payee.c.real_name_masked.label("t6"),
        transfers.c.memo.label("t7"),
    )
    .join(_payer, _payer.c.id == transfers.c.payer_user_id)
    .join(_payee, _payee.c.id == transfers.c.payee_user_id)
    .where(transfers.c.id.in_(bindparam("transfer_ids", expanding=True))),
    select(
        literal("withdrawal"),
        withdrawals.c.id,
        cards.c.bank_name,
        cards.c.last_four,
        *_nulls(5),
    )
    .join(cards, cards.c.id == withdrawals.c.card_id)
    .where(withdrawals.c.id.in_(bindparam("withdrawal_ids", expanding=True))),
    select(
        literal("topup"),
        topups.c.id,
        topups.c.method,
        cards.c.bank_name,
        cards.c.last_four,
        *_nulls(4),
    )
    .outerjoin(cards, cards.c.id == topups.c.card_id)
    .where(topups.c.id.in_(bindparam("topup_ids", expanding=True))),
    select(literal("merchant"), merchants.c.id, merchants.c.name, *_nulls(6)).where(
        merchants.c.id.in_(bindparam("merchant_ids", expanding=True))
    ),
    select(
        literal("bill"),
        bill_payments.c.id,
        billers.c.id,
        billers.c.name_zh,
        billers.c.name_en,
        billers.c.category,
        *_nulls(3),
    )
    .join(billers, billers.c.id == bill_payments.c.biller_id)
    .where(bill_payments.c.id.in_(bindparam("bill_payment_ids", expanding=True))),
    select(
        literal("card_transfer"),
        card_transfers.c.id,
        card_transfers.c.bank_name,
        card_transfers.c.card_last_four,
        card_transfers.c.payee_name,
        *_nulls(4),
    ).where(card_transfers.c.id.in_(bindparam("card_transfer_ids", expanding=True))),
)


async def descriptions(
    conn: AsyncConnection,
    *,
    transfer_ids: Sequence[str] = (),
    withdrawal_ids: Sequence[str] = (),
    topup_ids: Sequence[str] = (),
    merchant_ids: Sequence[str] = (),
    bill_payment_ids: Sequence[str] = (),
    card_transfer_ids: Sequence[str] = (),
) -> Descriptions:
    """The transfers (both parties, masked), withdrawals' cards, top-ups' methods and
    cards, merchants' names, bill payments' billers and card transfers' cards and payees
    these ids name, in one statement (none if no id is given)."""
    found = Descriptions()
    if not (
        transfer_ids
        or withdrawal_ids
        or topup_ids
        or merchant_ids
        or bill_payment_ids
        or card_transfer_ids
    ):
        return found
    values = {
        "transfer_ids": list(transfer_ids),
        "withdrawal_ids": list(withdrawal_ids),
        "topup_ids": list(topup_ids),
        "merchant_ids": list(merchant_ids),
        "bill_payment_ids": list(bill_payment_ids),
        "card_transfer_ids": list(card_transfer_ids),
    }
    for row in (await conn.execute(_describing, values)).all():
        if row.source == "transfer":
            found.transfers[row.id] = TransferRef(
                id=row.id,
                payer=Party(row.t1, mask_phone(row.t2), row.t3),
                payee=Party(row.t4, mask_phone(row.t5), row.t6),
                memo=row.t7,
            )
        elif row.source == "withdrawal":
            found.withdrawal_cards[row.id] = CardRef(row.t1, row.t2)
        elif row.source == "topup":
            found.topups[row.id] = TopupRef(row.t1, CardRef(row.t2, row.t3))
        elif row.source == "card_transfer":
            found.card_transfers[row.id] = CardTransferRef(
                row.id, str(row.t1), str(row.t2), str(row.t3)
            )
        elif row.source == "bill":
            found.bills[row.id] = BillRef(str(row.t1), str(row.t2), str(row.t3), str(row.t4))
        else:
            found.merchant_names[row.id] = str(row.t1)
    return found
