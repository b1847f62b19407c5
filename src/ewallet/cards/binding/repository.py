"""Every statement of card binding: the ``cards`` rows (ORM :class:`~ewallet.models.funding.Card`)
and whether a top-up from a card is still pending."""

from __future__ import annotations

from sqlalchemy import exists, func, select

from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.funding import LIVE_CARD_STATUSES, Card, CardStatus, TopupStatus
from ewallet.models.tables import cards, topups


async def card(uow: UnitOfWork, card_id: str, *, lock: bool) -> Card | None:
    """The card ``card_id`` as stored now (``lock``: ``FOR UPDATE`` for the unit)."""
    return await uow.session.get(Card, card_id, with_for_update=lock, populate_existing=True)


def add(uow: UnitOfWork, new: Card) -> None:
    """A new card row, written with the unit (the live-fingerprint index may refuse it)."""
    uow.session.add(new)


async def live_count(uow: UnitOfWork, user_id: str) -> int:
    """How many cards the user has bound or is binding."""
    conn = await uow.connection()
    live = cards.c.user_id == user_id, cards.c.status.in_(LIVE_CARD_STATUSES)
    return int(await conn.scalar(select(func.count()).select_from(cards).where(*live)) or 0)


async def live_with_fingerprint(uow: UnitOfWork, user_id: str, fingerprint: str) -> bool:
    """Whether the user has this card (by keyed fingerprint) bound or being bound."""
    conn = await uow.connection()
    query = select(
        exists().where(
            cards.c.user_id == user_id,
            cards.c.status.in_(LIVE_CARD_STATUSES),
            cards.c.fingerprint == fingerprint,
        )
    )
    return bool(await conn.scalar(query))


async def has_active_card(uow: UnitOfWork, user_id: str) -> bool:
    conn = await uow.connection()
    query = select(exists().where(cards.c.user_id == user_id, cards.c.status == CardStatus.ACTIVE))
    return bool(await conn.scalar(query))


async def live_cards(uow: UnitOfWork, user_id: str) -> list[Card]:
    """The user's live cards (pending and active), newest first."""
    query = (
        select(Card)
        .where(Card.user_id == user_id, Card.status.in_(LIVE_CARD_STATUSES))
        .order_by(Card.created_at.desc(), Card.id.desc())
    )
    return list((await uow.session.scalars(query)).all())


async def has_pending_topup(uow: UnitOfWork, card_id: str) -> bool:
    """Whether a top-up from the card waits for the bank's answer."""
    conn = await uow.connection()
    query = select(
        exists().where(topups.c.card_id == card_id, topups.c.status == TopupStatus.PENDING)
    )
    return bool(await conn.scalar(query))
