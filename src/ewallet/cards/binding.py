"""Binding, confirming, listing and unbinding a user's bank cards.

The wallet keeps the bank, type, BIN, last four digits, a keyed fingerprint
(``digest("card:<number>")``) and the bank's agreement token (encrypted with the context
``agreement:<card id>``) -- never the full number and never a CVV. Only debit cards can be
bound for now (top-ups and withdrawals need one): credit, quasi-credit and prepaid cards
answer ``card_not_supported``.

Bank calls never run inside a database transaction: the pending card row is committed in a
unit of its own, the bank is called, and a second unit records the answer. A bank refusal
marks the card ``failed`` and raises the mapped error. The partial unique index on
``(user_id, fingerprint)`` for live cards is what guarantees ``card_already_bound``; the
check before the insert (under the user's row lock) gives the clean error.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Final, cast

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, audit_user
from ewallet.cards.errors import (
    CardAlreadyBoundError,
    CardLimitReachedError,
    CardNotSupportedError,
    CardOperationPendingError,
)
from ewallet.identity.errors import IdentityMismatchError
from ewallet.identity.guards import locked_user
from ewallet.identity.realname import mask_real_name, normalize_real_name, recompute_tier
from ewallet.integrations.bank.errors import BankCodeAttemptsExhaustedError
from ewallet.integrations.bank.port import BankGateway
from ewallet.kit.bank_cards import CardType, lookup_card, normalize_card_number
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, DomainError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.phone import mask_phone, parse_phone
from ewallet.models.funding import Card
from ewallet.models.identity import User
from ewallet.models.tables import cards, topups
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import KeyedDigest

MAX_LIVE_CARDS: Final = 10
LIVE: Final = ("pending_verification", "active")


@dataclass(frozen=True, slots=True)
class CardServices:
    """What the card use cases need: the database, the clock, the keys and the bank."""

    engine: AsyncEngine
    clock: Clock
    security: SecurityContext
    gateway: BankGateway


@dataclass(frozen=True, slots=True)
class BindingRequest:
    card_number: str
    holder_name: str
    id_number: str | None
    bank_phone: str


def card_fingerprint(digest: KeyedDigest, number: str) -> str:
    return digest(f"card:{number}")


def _holder_details(
    user: User, security: SecurityContext, holder: str, id_number: str | None
) -> str:
    """The ID number to send to the bank; ``identity_mismatch`` against a verified identity."""
    given = id_number.strip().upper() if id_number else None
    if user.identity_verified_at is None or user.real_name_encrypted is None:
        if given is None:
            raise ValidationFailedError("id_number is required until your identity is verified")
        return given
    cipher = security.cipher
    real_name = cipher.decrypt(user.real_name_encrypted, context=f"real_name:{user.id}")
    own_id = cipher.decrypt(cast(str, user.id_number_encrypted), context=f"id_number:{user.id}")
    same_name = hmac.compare_digest(real_name.encode(), holder.encode())
    same_id = given is None or hmac.compare_digest(own_id.encode(), given.encode())
    if not (same_name and same_id):
        raise IdentityMismatchError("the card holder must be the account's verified owner")
    return own_id


async def _owned_card(uow: UnitOfWork, user_id: str, card_id: str, *, lock: bool) -> Card:
    card = await uow.session.get(Card, card_id, with_for_update=lock, populate_existing=True)
    if card is None or card.user_id != user_id:
        raise NotFoundError("no such card")
    return card


async def _has_active_card(uow: UnitOfWork, user_id: str) -> bool:
    conn = await uow.connection()
    query = select(exists().where(cards.c.user_id == user_id, cards.c.status == "active"))
    return bool(await conn.scalar(query))


async def _mark_failed(services: CardServices, card_id: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        card = await uow.session.get(Card, card_id, with_for_update=True)
        if card is not None and card.status == "pending_verification":
            card.status = "failed"

    await run_unit(services.engine, work)


async def start_binding(
    services: CardServices, *, user_id: str, request: BindingRequest, actor: Actor
) -> Card:
    """Check the card, record it pending, and have the bank text a code to its phone."""
    number, entry = lookup_card(request.card_number)
    if entry.card_type is not CardType.DEBIT:
        raise CardNotSupportedError(
            "only debit cards can be bound", reason="card_type", card_type=str(entry.card_type)
        )
    phone = parse_phone(request.bank_phone)
    holder = normalize_real_name(request.holder_name)
    fingerprint = card_fingerprint(services.security.digest, number)
    card_id = new_id("card")

    async def record(uow: UnitOfWork) -> tuple[Card, str]:
        user = await locked_user(uow, user_id)
        id_number = _holder_details(user, services.security, holder, request.id_number)
        conn = await uow.connection()
        live = cards.c.user_id == user_id, cards.c.status.in_(LIVE)
        count = int(await conn.scalar(select(func.count()).select_from(cards).where(*live)) or 0)
        duplicate = await conn.scalar(
            select(exists().where(*live, cards.c.fingerprint == fingerprint))
        )
        if duplicate:
            raise CardAlreadyBoundError("this card is already bound to your account")
        if count >= MAX_LIVE_CARDS:
            raise CardLimitReachedError(f"at most {MAX_LIVE_CARDS} cards", limit=MAX_LIVE_CARDS)
        card = Card(
            id=card_id,
            user_id=user_id,
            status="pending_verification",
            bank_code=entry.bank.code,
            bank_name=entry.bank.name,
            card_type=str(entry.card_type),
            bin=entry.bin,
            last_four=number[-4:],
            fingerprint=fingerprint,
            holder_name_masked=mask_real_name(holder),
            bank_phone_masked=mask_phone(phone),
            binding_request_id=f"bind:{card_id}",
            agreement_token_encrypted=None,
            created_at=services.clock.now(),
        )
        uow.session.add(card)
        await audit_user(
            uow,
            services.clock,
            actor,
            "card.binding_started",
            user_id,
            details={"card_id": card_id},
        )
        return card, id_number

    try:
        card, id_number = await run_unit(services.engine, record)
    except IntegrityError as error:  # the partial unique index: a parallel bind of this card
        raise CardAlreadyBoundError("this card is already bound to your account") from error
    try:
        await services.gateway.start_binding(
            card_number=number,
            holder_name=holder,
            id_number=id_number,
            bank_phone=phone,
            request_id=card.binding_request_id,
        )
    except DomainError:
        await _mark_failed(services, card.id)
        raise
    return card


async def confirm_binding(
    services: CardServices, *, user_id: str, card_id: str, code: str, actor: Actor
) -> Card:
    """Trade the bank's texted code for the agreement token; the card becomes active."""

    async def load(uow: UnitOfWork) -> Card:
        return await _owned_card(uow, user_id, card_id, lock=False)

    card = await run_unit(services.engine, load, read_only=True)
    if card.status == "active":
        return card
    if card.status != "pending_verification":
        raise ConflictError("this binding is over; bind the card again")
    try:
        bound = await services.gateway.confirm_binding(
            request_id=card.binding_request_id, code=code
        )
    except BankCodeAttemptsExhaustedError:
        await _mark_failed(services, card.id)
        raise

    async def activate(uow: UnitOfWork) -> Card:
        user = await locked_user(uow, user_id)
        locked = await _owned_card(uow, user_id, card_id, lock=True)
        if locked.status == "active":
            return locked
        if locked.status != "pending_verification":
            raise ConflictError("this binding is over; bind the card again")
        locked.status = "active"
        locked.agreement_token_encrypted = services.security.cipher.encrypt(
            bound.agreement_token, context=f"agreement:{card_id}"
        )
        locked.verified_at = services.clock.now()
        # A verified user's holder details were matched at start_binding: class III.
        if user.identity_verified_at is not None:
            await recompute_tier(user, has_bound_card=True)
            user.updated_at = services.clock.now()
        await audit_user(
            uow, services.clock, actor, "card.bound", user_id, details={"card_id": card_id}
        )
        return locked

    return await run_unit(services.engine, activate)


async def list_cards(engine: AsyncEngine, *, user_id: str) -> list[Card]:
    """The user's live cards (pending and active), newest first."""

    async def load(uow: UnitOfWork) -> list[Card]:
        query = (
            select(Card)
            .where(Card.user_id == user_id, Card.status.in_(LIVE))
            .order_by(Card.created_at.desc(), Card.id.desc())
        )
        return list((await uow.session.scalars(query)).all())

    return await run_unit(engine, load, read_only=True)


async def unbind_card(services: CardServices, *, user_id: str, card_id: str, actor: Actor) -> None:
    """Revoke the agreement at the bank, then mark the card unbound (the PIN is checked first).

    Refused with ``card_operation_pending`` while a top-up from the card is pending. The bank
    is asked first: if it cannot be reached nothing changed and the user may try again.
    """

    async def load(uow: UnitOfWork) -> Card:
        card = await _owned_card(uow, user_id, card_id, lock=False)
        if card.status not in LIVE:
            raise NotFoundError("no such card")
        conn = await uow.connection()
        pending = select(exists().where(topups.c.card_id == card_id, topups.c.status == "pending"))
        if await conn.scalar(pending):
            raise CardOperationPendingError("a top-up from this card is still being processed")
        return card

    card = await run_unit(services.engine, load, read_only=True)
    if card.agreement_token_encrypted is not None:
        token = services.security.cipher.decrypt(
            card.agreement_token_encrypted, context=f"agreement:{card_id}"
        )
        await services.gateway.unbind(agreement_token=token)

    async def record(uow: UnitOfWork) -> None:
        user = await locked_user(uow, user_id)
        locked = await _owned_card(uow, user_id, card_id, lock=True)
        if locked.status not in LIVE:
            return
        now = services.clock.now()
        locked.status = "unbound"
        locked.unbound_at = now
        await uow.session.flush()
        await recompute_tier(user, has_bound_card=await _has_active_card(uow, user_id))
        user.updated_at = now
        await audit_user(
            uow, services.clock, actor, "card.unbound", user_id, details={"card_id": card_id}
        )

    await run_unit(services.engine, record)


async def bound_card_matches(uow: UnitOfWork, digest: KeyedDigest, user_id: str, raw: str) -> bool:
    """True if ``raw`` is the full number of one of the user's active cards (by fingerprint)."""
    try:
        number = normalize_card_number(raw)
    except DomainError:
        return False
    conn = await uow.connection()
    query = select(cards.c.fingerprint).where(
        cards.c.user_id == user_id, cards.c.status == "active"
    )
    wanted = card_fingerprint(digest, number)
    return any(hmac.compare_digest(row.fingerprint, wanted) for row in await conn.execute(query))


async def has_active_card(uow: UnitOfWork, user_id: str) -> bool:
    return await _has_active_card(uow, user_id)
