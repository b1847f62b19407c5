"""Queries on ``users`` shared by identity's sub-features (Core or ORM, no commits).

ORM objects, because notices (:func:`ewallet.notify.service.notify_user`) take a
:class:`User`; callers pass their unit's session and never commit here.

``for_update`` locks the row ``FOR NO KEY UPDATE`` (PostgreSQL): nothing changes a user's
id or phone once written, and the weaker lock lets rows referencing the user be inserted
meanwhile (the global lock order, :mod:`ewallet.kit.db.locking`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.kit.db.locking import NO_KEY_UPDATE, for_no_key_update
from ewallet.kit.ids import new_id
from ewallet.models.funding import CardStatus
from ewallet.models.identity import User, UserStatus
from ewallet.models.tables import cards


async def find_by_phone(
    session: AsyncSession, phone: str, *, for_update: bool = False
) -> User | None:
    """The account of ``phone`` (E.164), closed ones included (they keep their number)."""
    statement = select(User).where(User.phone == phone)
    if for_update:
        statement = for_no_key_update(statement)
    return (await session.scalars(statement)).first()


async def get_user(session: AsyncSession, user_id: str, *, for_update: bool = False) -> User | None:
    """The user (``for_update``: locked, re-read from the database)."""
    return await session.get(User, user_id, with_for_update=NO_KEY_UPDATE if for_update else None)


async def add_user(
    session: AsyncSession, *, phone: str, password_hash: str, locale: str, now: datetime
) -> User:
    """A new class-I account; flushed so its id exists for the rows that follow."""
    user = User(
        id=new_id("usr"),
        phone=phone,
        status=UserStatus.ACTIVE,
        tier=1,
        locale=locale,
        nickname=None,
        login_password_hash=password_hash,
        login_password_changed_at=now,
        login_failures=0,
        login_locked_until=None,
        payment_failures=0,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    return user


def is_signable(user: User | None) -> bool:
    """Closed accounts answer sign-in exactly like phones without an account."""
    return user is not None and user.status != UserStatus.CLOSED


# The user's bound cards, read here rather than through ``ewallet.cards`` (which imports
# identity): the account class and the password-reset factor depend on them.


async def has_active_card(conn: AsyncConnection, user_id: str) -> bool:
    """Whether the user has a bound (active) card."""
    query = select(exists().where(cards.c.user_id == user_id, cards.c.status == CardStatus.ACTIVE))
    return bool(await conn.scalar(query))


async def active_card_fingerprints(conn: AsyncConnection, user_id: str) -> list[str]:
    """The keyed fingerprints (:mod:`ewallet.security.card_fingerprint`) of the user's
    active cards."""
    query = select(cards.c.fingerprint).where(
        cards.c.user_id == user_id, cards.c.status == CardStatus.ACTIVE
    )
    return [row.fingerprint for row in await conn.execute(query)]
