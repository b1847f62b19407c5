"""Row locks: which lock, and in what order. Every money unit follows this one order.

**The global lock order** (PostgreSQL; a unit takes only the steps it needs, never goes
back to an earlier step, and takes its strongest lock on a row the first time it locks it
-- a lock upgrade later in the unit can deadlock with a second unit doing the same):

1. ``users`` -- the acting user's row (the spender, the account owner), through
   :func:`~ewallet.identity.guards.locked_user` (``FOR NO KEY UPDATE``) or
   :func:`~ewallet.identity.guards.ensure_not_frozen` (``FOR SHARE``); one user
   per unit. Another user's row (a transfer's payee, a refund's payer) is only read.
2. The operation's own rows, one kind per unit: the order (the conditional ``UPDATE``
   that claims it), the payment a refund draws on, the card a top-up debits
   (``FOR SHARE``), the withdrawal, top-up, bill payment or counter deposit being settled.
3. Ledger holds, in id order (:func:`ewallet.ledger.repository.lock_holds`).
4. Ledger accounts, in id order (:func:`ewallet.ledger.repository.lock_accounts`,
   :mod:`ewallet.ledger.pg_fast`).
5. Rows only inserted afterwards (postings, transfers, payments, notices, outbox events,
   spend records), then the audit chain's head, last (it is one row every audited unit
   updates, so it is held for the shortest time).

**The weakest lock that serves.** No unit changes a primary key or a referenced unique
key, so no row that other rows reference is locked ``FOR UPDATE``: a row that will be
updated is locked ``FOR NO KEY UPDATE`` (:data:`NO_KEY_UPDATE`), which excludes other
writers just as well but not the ``FOR KEY SHARE`` lock that PostgreSQL takes on a
referenced row whenever a row pointing at it is inserted (a notice for a transfer's
payee, a posting of a locked account). ``FOR UPDATE`` on the sender made opposite
transfers wait on each other's payee and deadlock. A row that only has to stay as it is
while the unit runs (the account is not frozen, the card is still bound) is locked
``FOR SHARE`` (:data:`SHARE`); a row that is only read is not locked. Implicit
``FOR KEY SHARE`` locks may come at any step: they conflict with nothing taken here.

SQLite: every write transaction already holds the database's single writer lock
(``BEGIN IMMEDIATE``), so the same statements just read there.

A deadlock that still happens is a bug in this order: ``run_unit`` reruns the unit but
logs ``db.deadlock`` at error level and counts it in ``ewallet_db_unit_retries_total``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, TypeVar

from sqlalchemy import Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

S = TypeVar("S", bound=Select[Any])

# ``with_for_update`` arguments for ``Session.get``: SQLAlchemy spells FOR NO KEY UPDATE
# as key_share=True (and FOR SHARE as read=True).
NO_KEY_UPDATE: Final[dict[str, bool]] = {"key_share": True}
SHARE: Final[dict[str, bool]] = {"read": True}


def for_no_key_update(statement: S) -> S:
    """``statement ... FOR NO KEY UPDATE``: the lock for a row this unit will update."""
    return statement.with_for_update(key_share=True)


def for_share(statement: S) -> S:
    """``statement ... FOR SHARE``: the row must not change while this unit runs."""
    return statement.with_for_update(read=True)


def locked_select(table: Table, ids: Iterable[Any], *, lock: bool = True) -> Select[Any]:
    """A select of ``table`` rows by id, in id order, locked FOR NO KEY UPDATE when ``lock``."""
    ordered = sorted(set(ids))
    statement = select(table).where(table.c.id.in_(ordered)).order_by(table.c.id)
    return for_no_key_update(statement) if lock else statement


async def lock_rows(session: AsyncSession, table: Table, ids: Iterable[Any]) -> Sequence[Any]:
    """Lock and return the rows of ``table`` with these ids, in ascending id order."""
    result = await session.execute(locked_select(table, ids))
    rows: Sequence[Any] = result.all()
    return rows
