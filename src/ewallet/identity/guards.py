"""Account guards every money unit uses: is the account active, and the user's row lock.

Imports only models and kit, so any feature (and the spend seam) can use it without
reaching into identity's use cases. The lock taken here is step 1 of the global lock
order (docs/architecture.md, "Lock order").
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.errors import AccountFrozenError
from ewallet.kit.db.locking import NO_KEY_UPDATE
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import NotFoundError
from ewallet.models.identity import User, UserStatus
from ewallet.models.tables import users


def _frozen(frozen_by: str | None) -> AccountFrozenError:
    # "self", "staff" or "risk": who froze it, never which staff member.
    by = (frozen_by or "").split(":")[0] or None
    return AccountFrozenError("the account is frozen; money actions are paused", frozen_by=by)


def ensure_active(user: User) -> None:
    """Refuse money actions on a frozen (or closed) account."""
    if user.status != UserStatus.ACTIVE:
        raise _frozen(user.frozen_by)


async def ensure_not_frozen(conn: AsyncConnection, *, user_id: str) -> None:
    """Call inside every money-moving unit of work, before the ledger is touched.

    Takes a shared lock on the user's row (PostgreSQL ``FOR SHARE``): payments of one user
    do not wait for each other, but a freeze (which updates the row) waits for them and
    they wait for it, so no payment commits after the freeze that should have stopped it.
    """
    row = (
        await conn.execute(
            select(users.c.status, users.c.frozen_by)
            .where(users.c.id == user_id)
            .with_for_update(read=True)
        )
    ).first()
    if row is None:
        raise NotFoundError("no such user")
    if row.status != UserStatus.ACTIVE:
        raise _frozen(row.frozen_by)


async def locked_user(uow: UnitOfWork, user_id: str) -> User:
    """The user's row, locked for this unit (SQLite: the write lock is held already).

    PostgreSQL ``FOR NO KEY UPDATE``, the first step of the global lock order
    (:mod:`ewallet.kit.db.locking`): it keeps other writers of the row out, but not the
    inserts whose foreign keys point at the user (notices, payments, spend records).
    """
    user = await uow.session.get(
        User, user_id, with_for_update=NO_KEY_UPDATE, populate_existing=True
    )
    if user is None:
        raise NotFoundError("no such user")
    return user
