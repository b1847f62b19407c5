"""All ledger SQL. Functions take the unit of work's connection and never commit.

Hot paths use Core statements with executemany, so a batch of N commands costs a fixed
number of round trips, not N times as many.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.db.locking import locked_select
from ewallet.kit.money import Money
from ewallet.ledger.domain import (
    Account,
    AccountState,
    Hold,
    HoldStatus,
    Posting,
    Side,
    Transaction,
    lock_needed,
)
from ewallet.models.tables import ledger_accounts as accounts
from ewallet.models.tables import ledger_balance_deltas as deltas
from ewallet.models.tables import ledger_holds as holds
from ewallet.models.tables import ledger_postings as postings
from ewallet.models.tables import ledger_transactions as transactions

_update_account = (
    update(accounts)
    .where(accounts.c.id == bindparam("b_id"))
    .values(
        posted=bindparam("b_posted"),
        pending_debits=bindparam("b_pending_debits"),
        pending_credits=bindparam("b_pending_credits"),
    )
)
_update_hold = (
    update(holds)
    .where(holds.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        posted_amount=bindparam("b_posted_amount"),
        resolved_at=bindparam("b_resolved_at"),
    )
)


# ------------------------------------------------------------------------------- accounts


def _account_state(row: Row[Any]) -> AccountState:
    return AccountState(
        id=row.id,
        code=row.code,
        kind=row.kind,
        currency=row.currency,
        normal_side=Side(row.normal_side),
        may_go_negative=row.may_go_negative,
        posted=row.posted,
        pending_debits=row.pending_debits,
        pending_credits=row.pending_credits,
        hot=row.hot,
    )


# A hot account's balance is its cached ``posted`` plus the deltas not folded yet.
_unfolded = (
    select(func.coalesce(func.sum(deltas.c.amount), 0))
    .where(deltas.c.account_id == accounts.c.id)
    .scalar_subquery()
    .label("unfolded")
)


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        code=row.code,
        kind=row.kind,
        currency=row.currency,
        normal_side=Side(row.normal_side),
        may_go_negative=row.may_go_negative,
        posted=row.posted + int(row.unfolded),
        pending_debits=row.pending_debits,
        pending_credits=row.pending_credits,
        hot=row.hot,
    )


async def insert_account(
    conn: AsyncConnection,
    *,
    code: str,
    kind: str,
    currency: str,
    normal_side: Side,
    may_go_negative: bool,
    hot: bool = False,
    now: datetime,
) -> int:
    result = await conn.execute(
        insert(accounts).returning(accounts.c.id),
        {
            "code": code,
            "kind": kind,
            "currency": currency,
            "normal_side": normal_side.value,
            "may_go_negative": may_go_negative,
            "hot": hot,
            "posted": 0,
            "pending_debits": 0,
            "pending_credits": 0,
            "created_at": now,
        },
    )
    return int(result.scalar_one())


async def get_account(conn: AsyncConnection, account_id: int) -> Account | None:
    statement = select(accounts, _unfolded).where(accounts.c.id == account_id)
    row = (await conn.execute(statement)).first()
    return _account(row) if row else None


async def get_account_by_code(conn: AsyncConnection, code: str) -> Account | None:
    row = (await conn.execute(select(accounts, _unfolded).where(accounts.c.code == code))).first()
    return _account(row) if row else None


async def lock_accounts(
    conn: AsyncConnection,
    ids: Iterable[int],
    *,
    always: set[int] | None = None,
    debited: set[int] | None = None,
    credited: set[int] | None = None,
) -> dict[int, AccountState]:
    """Load the accounts and lock those :func:`~ewallet.ledger.domain.lock_needed` names.

    Locks are taken in ascending id order (step 4 of the global lock order,
    :mod:`ewallet.kit.db.locking`), ``FOR NO KEY UPDATE``. Without the leg
    sets every account is locked. SQLite's write transaction already holds the database's
    one write lock, so there the read is all.
    """
    wanted = sorted(set(ids))
    # FOR NO KEY UPDATE, the lock an UPDATE of the balance takes anyway: unlike FOR UPDATE
    # it lets the inserts of postings and deltas referencing the row (foreign keys take KEY
    # SHARE) go on while a fold or a refund holds it.
    if debited is None or credited is None:
        statement = locked_select(accounts, wanted)
        return {row.id: _account_state(row) for row in (await conn.execute(statement)).all()}
    rows = (await conn.execute(locked_select(accounts, wanted, lock=False))).all()
    states = {row.id: _account_state(row) for row in rows}
    for state in states.values():
        state.locked = lock_needed(
            state, always=always or set(), debited=debited, credited=credited
        )
    to_lock = [i for i, state in states.items() if state.locked]
    if to_lock and conn.dialect.name != "sqlite":
        statement = locked_select(accounts, to_lock)
        for row in (await conn.execute(statement)).all():  # the balances as of the lock
            locked = _account_state(row)
            states[row.id] = locked
    return states


async def fold_deltas(conn: AsyncConnection, states: Iterable[AccountState]) -> int:
    """Fold the deltas of these locked hot accounts into their balances; how many folded.

    Only committed deltas are visible, and each is deleted as it is added, so a delta is
    folded exactly once; one committed after this statement waits for the next fold.
    """
    by_id = {s.id: s for s in states if s.hot and s.locked}
    if not by_id:
        return 0
    statement = (
        delete(deltas)
        .where(deltas.c.account_id.in_(sorted(by_id)))
        .returning(deltas.c.account_id, deltas.c.amount)
    )
    rows = (await conn.execute(statement)).all()
    for account_id, amount in rows:
        state = by_id[account_id]
        state.posted += amount
        state.dirty = True
    return len(rows)


async def insert_deltas(
    conn: AsyncConnection, states: Iterable[AccountState], *, now: datetime
) -> None:
    """Record what entries added to unlocked hot accounts, one row per account."""
    rows = [
        {"account_id": s.id, "amount": s.unfolded, "created_at": now}
        for s in states
        if not s.locked and s.unfolded
    ]
    if rows:
        await conn.execute(insert(deltas), rows)


async def hot_accounts_with_deltas(conn: AsyncConnection, *, limit: int) -> list[int]:
    statement = select(deltas.c.account_id).distinct().order_by(deltas.c.account_id).limit(limit)
    return [int(row[0]) for row in (await conn.execute(statement)).all()]


async def save_accounts(conn: AsyncConnection, states: Iterable[AccountState]) -> None:
    params = [
        {
            "b_id": s.id,
            "b_posted": s.posted,
            "b_pending_debits": s.pending_debits,
            "b_pending_credits": s.pending_credits,
        }
        for s in states
        if s.dirty and s.locked
    ]
    if params:
        await conn.execute(_update_account, params)


# --------------------------------------------------------------------------- transactions


async def find_transaction_keys(
    conn: AsyncConnection, keys: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """``key -> (transaction id, request hash)`` for keys already used."""
    if not keys:
        return {}
    statement = select(
        transactions.c.idempotency_key, transactions.c.id, transactions.c.request_hash
    ).where(transactions.c.idempotency_key.in_(sorted(set(keys))))
    return {row[0]: (row[1], row[2]) for row in (await conn.execute(statement)).all()}


async def find_hold_keys(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    if not keys:
        return {}
    statement = select(holds.c.idempotency_key, holds.c.id, holds.c.request_hash).where(
        holds.c.idempotency_key.in_(sorted(set(keys)))
    )
    return {row[0]: (row[1], row[2]) for row in (await conn.execute(statement)).all()}


async def insert_transactions(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(transactions), rows)


async def insert_postings(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert postings in order and return their ids in the same order."""
    if not rows:
        return []
    if conn.dialect.name == "sqlite":
        # The write transaction holds SQLite's only write lock (BEGIN IMMEDIATE), so the
        # next ids are ours to assign; one executemany beats RETURNING row by row.
        last = (await conn.execute(select(func.max(postings.c.id)))).scalar() or 0
        ids = list(range(last + 1, last + 1 + len(rows)))
        await conn.execute(
            insert(postings), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]
        )
        return ids
    statement = insert(postings).returning(postings.c.id, sort_by_parameter_order=True)
    return [int(i) for i in (await conn.execute(statement, rows)).scalars().all()]


def _posting(row: Row[Any]) -> Posting:
    return Posting(
        id=row.id,
        transaction_id=row.transaction_id,
        account_id=row.account_id,
        amount=row.amount,
        currency=row.currency,
        balance_after=row.balance_after,
        created_at=row.created_at,
    )


async def load_transactions(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, Transaction]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    txn_rows = (await conn.execute(select(transactions).where(transactions.c.id.in_(wanted)))).all()
    posting_rows = (
        await conn.execute(
            select(postings).where(postings.c.transaction_id.in_(wanted)).order_by(postings.c.id)
        )
    ).all()
    by_txn: dict[str, list[Posting]] = {}
    for row in posting_rows:
        by_txn.setdefault(row.transaction_id, []).append(_posting(row))
    return {
        row.id: Transaction(
            id=row.id,
            kind=row.kind,
            idempotency_key=row.idempotency_key,
            metadata=row.metadata,
            reverses_id=row.reverses_id,
            hold_id=row.hold_id,
            created_at=row.created_at,
            postings=tuple(by_txn.get(row.id, ())),
        )
        for row in txn_rows
    }


async def reversed_ids(conn: AsyncConnection, ids: Iterable[str]) -> set[str]:
    """Which of these transactions already have a reversal."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    statement = select(transactions.c.reverses_id).where(transactions.c.reverses_id.in_(wanted))
    return {row[0] for row in (await conn.execute(statement)).all()}


# ----------------------------------------------------------------------------------- holds


def hold_from_row(row: Row[Any]) -> Hold:
    posted = row.posted_amount
    return Hold(
        id=row.id,
        kind=row.kind,
        idempotency_key=row.idempotency_key,
        status=HoldStatus(row.status),
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount=Money(row.amount, row.currency),
        posted_amount=Money(posted, row.currency) if posted is not None else None,
        expires_at=row.expires_at,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        metadata=row.metadata,
    )


async def lock_holds(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, Hold]:
    """Lock the holds (id order, ``FOR NO KEY UPDATE``): before any account is locked."""
    rows = (await conn.execute(locked_select(holds, ids))).all()
    return {row.id: hold_from_row(row) for row in rows}


async def load_holds(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, Hold]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (await conn.execute(select(holds).where(holds.c.id.in_(wanted)))).all()
    return {row.id: hold_from_row(row) for row in rows}


async def insert_holds(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(holds), rows)


async def update_holds(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(_update_hold, rows)


async def due_hold_ids(conn: AsyncConnection, *, now: datetime, limit: int) -> list[str]:
    statement = (
        select(holds.c.id)
        .where(holds.c.status == HoldStatus.PENDING.value, holds.c.expires_at <= now)
        .order_by(holds.c.expires_at)
        .limit(limit)
    )
    return [row[0] for row in (await conn.execute(statement)).all()]


# --------------------------------------------------------------------------------- history


async def account_history(
    conn: AsyncConnection, *, account_id: int, before_id: int | None, limit: int
) -> list[tuple[Posting, str, dict[str, Any]]]:
    """Postings of one account, newest first, with their transaction's kind and metadata."""
    statement = (
        select(postings, transactions.c.kind, transactions.c.metadata.label("txn_metadata"))
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .where(postings.c.account_id == account_id)
        .order_by(postings.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        statement = statement.where(postings.c.id < before_id)
    rows = (await conn.execute(statement)).all()
    return [(_posting(row), row.kind, row.txn_metadata) for row in rows]


async def balance_at(conn: AsyncConnection, *, account: Account, moment: datetime) -> int:
    """The account's posted balance as it stood at ``moment`` (normal direction)."""
    if account.hot:  # no running balance on its postings: add them up
        total = (
            await conn.execute(
                select(func.coalesce(func.sum(postings.c.amount), 0)).where(
                    postings.c.account_id == account.id, postings.c.created_at <= moment
                )
            )
        ).scalar_one()
        return int(total) if account.normal_side is Side.DEBIT else -int(total)
    statement = (
        select(postings.c.balance_after)
        .where(postings.c.account_id == account.id, postings.c.created_at <= moment)
        .order_by(postings.c.id.desc())
        .limit(1)
    )
    value = (await conn.execute(statement)).scalar()
    return int(value) if value is not None else 0


async def count_postings(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(postings))).scalar_one())
