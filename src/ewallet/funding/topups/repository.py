"""Every statement on ``topups`` (and the card a card top-up debits).

Functions take the unit's connection (or the unit, for the ORM card) and return
:class:`~ewallet.funding.topups.views.TopupView` values; status changes are conditional
``UPDATE`` statements that answer whether they changed the row, which is how concurrent
settlers find a top-up already taken.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.funding.topups.views import CardTopup, TopupView
from ewallet.kit.db.locking import SHARE
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.money import Money
from ewallet.models.funding import Card, TopupMethod, TopupStatus
from ewallet.models.identity import User
from ewallet.models.tables import card_payments, cards, topups


async def insert_topup(
    conn: AsyncConnection,
    *,
    topup_id: str,
    user_id: str,
    method: TopupMethod,
    card_id: str | None,
    amount: Money,
    status: TopupStatus,
    request_key: str | None,
    now: datetime,
) -> TopupView:
    """Insert a top-up (an ``IntegrityError`` if its request key was used) and read it back."""
    await conn.execute(
        topups.insert().values(
            id=topup_id,
            user_id=user_id,
            method=method,
            card_id=card_id,
            amount=amount.minor,
            currency=amount.currency,
            status=status,
            provider_reference=None,
            failure_reason=None,
            ledger_transaction_id=None,
            request_key=request_key,
            created_at=now,
            updated_at=now,
            completed_at=None,
        )
    )
    found = await load_topup(conn, topup_id)
    assert found is not None
    return found


async def load_topup(
    conn: AsyncConnection, topup_id: str, *, user_id: str | None = None
) -> TopupView | None:
    """The top-up ``topup_id``; with ``user_id``, only if it is that user's."""
    statement = select(topups).where(topups.c.id == topup_id)
    if user_id is not None:
        statement = statement.where(topups.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else TopupView.of(row)


async def fail_topup(
    conn: AsyncConnection,
    topup_id: str,
    *,
    from_statuses: Iterable[TopupStatus],
    reason: str,
    now: datetime,
    forget_request: bool = False,
) -> bool:
    """``failed`` (with ``reason``) if still in ``from_statuses``; ``forget_request`` drops
    its request key. True if this call changed it."""
    forget: dict[str, Any] = {"request_key": None} if forget_request else {}
    changed = await conn.execute(
        update(topups)
        .where(topups.c.id == topup_id, topups.c.status.in_(list(from_statuses)))
        .values(
            status=TopupStatus.FAILED,
            failure_reason=reason[:200],
            updated_at=now,
            completed_at=now,
            **forget,
        )
    )
    return bool(changed.rowcount == 1)


async def close_awaiting(
    conn: AsyncConnection, topup_id: str, *, status: TopupStatus, now: datetime
) -> None:
    """A PSP top-up still awaiting payment becomes ``status`` (closed or failed there)."""
    await conn.execute(
        update(topups)
        .where(topups.c.id == topup_id, topups.c.status == TopupStatus.AWAITING_PAYMENT)
        .values(status=status, updated_at=now, completed_at=now)
    )


async def claim_succeeded(
    conn: AsyncConnection,
    topup_id: str,
    *,
    creditable: Iterable[TopupStatus],
    provider_reference: str | None,
    now: datetime,
) -> bool:
    """``succeeded`` if still in ``creditable``: True for the one caller that claims it."""
    claimed = await conn.execute(
        update(topups)
        .where(topups.c.id == topup_id, topups.c.status.in_(list(creditable)))
        .values(
            status=TopupStatus.SUCCEEDED,
            provider_reference=provider_reference,
            failure_reason=None,
            updated_at=now,
            completed_at=now,
        )
    )
    return bool(claimed.rowcount == 1)


async def set_ledger_transaction(conn: AsyncConnection, topup_id: str, transaction_id: str) -> None:
    await conn.execute(
        update(topups).where(topups.c.id == topup_id).values(ledger_transaction_id=transaction_id)
    )


async def locked_status(conn: AsyncConnection, topup_id: str) -> str:
    """The top-up's status, its row locked ``FOR UPDATE`` for the rest of the unit."""
    query = select(topups.c.status).where(topups.c.id == topup_id).with_for_update()
    return str((await conn.execute(query)).scalar_one())


async def pending_card_topups(conn: AsyncConnection, *, limit: int) -> list[CardTopup]:
    """Card top-ups whose debit's outcome is unknown, oldest first, with their bank (not
    those funding a card payment: :mod:`ewallet.payments.card_funding.jobs` settles them)."""
    rows = await conn.execute(
        select(topups, cards.c.bank_code)
        .join(cards, cards.c.id == topups.c.card_id)
        .where(topups.c.method == TopupMethod.CARD, topups.c.status == TopupStatus.PENDING)
        # A top-up that funds a card payment is settled with its payment (payments/card_funding).
        .where(~exists().where(card_payments.c.topup_id == topups.c.id))
        .order_by(topups.c.created_at, topups.c.id)
        .limit(limit)
    )
    return [CardTopup(TopupView.of(row), str(row.bank_code)) for row in rows]


async def share_locked_card(uow: UnitOfWork, card_id: str) -> Card | None:
    """The card, read ``FOR SHARE`` (kit/db/locking.py): an unbind waits for this unit,
    parallel top-ups from the card do not wait for each other."""
    return await uow.session.get(Card, card_id, with_for_update=SHARE, populate_existing=True)


async def owner(uow: UnitOfWork, user_id: str) -> User:
    """The top-up's owner (to notify them); the row exists (a foreign key)."""
    user = await uow.session.get(User, user_id)
    assert user is not None
    return user
