"""Binding, confirming, listing and unbinding a user's bank cards.

The wallet keeps the bank, type, BIN, last four digits, a keyed fingerprint
(:func:`ewallet.security.card_fingerprint.card_fingerprint`) and the bank's agreement token
(encrypted with the context ``agreement:<card id>``) -- never the full number and never a
CVV. Only debit cards can be bound for now (top-ups and withdrawals need one): credit,
quasi-credit and prepaid cards answer ``card_not_supported``.

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

from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor, audit_user
from ewallet.cards.binding import repository
from ewallet.cards.errors import (
    CardAlreadyBoundError,
    CardLimitReachedError,
    CardNotSupportedError,
    CardOperationPendingError,
)
from ewallet.identity.errors import IdentityMismatchError
from ewallet.identity.guards import locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.realname.rules import mask_real_name, normalize_real_name
from ewallet.identity.realname.service import recompute_tier
from ewallet.integrations.bank.errors import BankCodeAttemptsExhaustedError
from ewallet.kit.bank_cards import CardType, lookup_card
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, DomainError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.phone import mask_phone, parse_phone
from ewallet.models.funding import LIVE_CARD_STATUSES, Card, CardStatus
from ewallet.models.identity import User
from ewallet.security.card_fingerprint import card_fingerprint
from ewallet.security.context import SecurityContext
from ewallet.services import Services

MAX_LIVE_CARDS: Final = 10


@dataclass(frozen=True, slots=True)
class BindingRequest:
    card_number: str
    holder_name: str
    id_number: str | None
    bank_phone: str


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
    card = await repository.card(uow, card_id, lock=lock)
    if card is None or card.user_id != user_id:
        raise NotFoundError("no such card")
    return card


async def _mark_failed(services: Services, card_id: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        card = await repository.card(uow, card_id, lock=True)
        if card is not None and card.status == CardStatus.PENDING_VERIFICATION:
            card.status = CardStatus.FAILED

    await run_unit(services.engine, work)


async def start_binding(
    services: Services, user_id: str, actor: Actor, *, request: BindingRequest
) -> Card:
    """Check the card, record it pending, and have the bank text a code to its phone.

    Refusals, in order: the card number's (``invalid_card_number``, ``card_bin_unknown``),
    ``card_not_supported`` (not a debit card), ``invalid_phone``, the holder name's; under
    the user's lock ``validation_failed`` (no ID number before the identity is verified) or
    ``identity_mismatch``, ``card_already_bound``, ``card_limit_reached``; then the bank's
    (the card is marked ``failed``).
    """
    number, entry = lookup_card(request.card_number)
    if entry.card_type is not CardType.DEBIT:
        raise CardNotSupportedError(
            "only debit cards can be bound", reason="card_type", card_type=str(entry.card_type)
        )
    phone = parse_phone(request.bank_phone)
    holder = normalize_real_name(request.holder_name)
    fingerprint = card_fingerprint(services.security.digest, number)
    card_id = new_id("card")
    clock = services.clock

    async def record(uow: UnitOfWork) -> tuple[Card, str]:
        user = await locked_user(uow, user_id)
        id_number = _holder_details(user, services.security, holder, request.id_number)
        count = await repository.live_count(uow, user_id)
        if await repository.live_with_fingerprint(uow, user_id, fingerprint):
            raise CardAlreadyBoundError("this card is already bound to your account")
        if count >= MAX_LIVE_CARDS:
            raise CardLimitReachedError(f"at most {MAX_LIVE_CARDS} cards", limit=MAX_LIVE_CARDS)
        card = Card(
            id=card_id,
            user_id=user_id,
            status=CardStatus.PENDING_VERIFICATION,
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
            created_at=clock.now(),
        )
        repository.add(uow, card)
        await audit_user(
            uow, clock, actor, "card.binding_started", user_id, details={"card_id": card_id}
        )
        return card, id_number

    try:
        card, id_number = await run_unit(services.engine, record)
    except IntegrityError as error:  # the partial unique index: a parallel bind of this card
        raise CardAlreadyBoundError("this card is already bound to your account") from error
    try:
        await services.bank.start_binding(
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
    services: Services, user_id: str, actor: Actor, *, card_id: str, code: str
) -> Card:
    """Trade the bank's texted code for the agreement token; the card becomes active.

    Refusals: ``not_found``; ``conflict`` (the binding is over); the bank's (a code whose
    attempts ran out marks the card ``failed``). Confirming an active card answers it.
    """

    async def load(uow: UnitOfWork) -> Card:
        return await _owned_card(uow, user_id, card_id, lock=False)

    card = await run_unit(services.engine, load, read_only=True)
    if card.status == CardStatus.ACTIVE:
        return card
    if card.status != CardStatus.PENDING_VERIFICATION:
        raise ConflictError("this binding is over; bind the card again")
    try:
        bound = await services.bank.confirm_binding(request_id=card.binding_request_id, code=code)
    except BankCodeAttemptsExhaustedError:
        await _mark_failed(services, card.id)
        raise
    clock = services.clock

    async def activate(uow: UnitOfWork) -> Card:
        user = await locked_user(uow, user_id)
        locked = await _owned_card(uow, user_id, card_id, lock=True)
        if locked.status == CardStatus.ACTIVE:
            return locked
        if locked.status != CardStatus.PENDING_VERIFICATION:
            raise ConflictError("this binding is over; bind the card again")
        locked.status = CardStatus.ACTIVE
        locked.agreement_token_encrypted = services.security.cipher.encrypt(
            bound.agreement_token, context=f"agreement:{card_id}"
        )
        locked.verified_at = clock.now()
        # A verified user's holder details were matched at start_binding: class III.
        if user.identity_verified_at is not None:
            await recompute_tier(user, has_bound_card=True)
            user.updated_at = clock.now()
        await audit_user(uow, clock, actor, "card.bound", user_id, details={"card_id": card_id})
        return locked

    return await run_unit(services.engine, activate)


async def list_cards(services: Services, user_id: str) -> list[Card]:
    """The user's live cards (pending and active), newest first."""

    async def load(uow: UnitOfWork) -> list[Card]:
        return await repository.live_cards(uow, user_id)

    return await run_unit(services.engine, load, read_only=True)


async def get_card(services: Services, user_id: str, *, card_id: str) -> Card:
    """The caller's live card ``card_id`` (being bound or active); ``not_found`` for any
    other (another user's, unbound, failed). Reads only."""

    async def load(uow: UnitOfWork) -> Card:
        card = await _owned_card(uow, user_id, card_id, lock=False)
        if card.status not in LIVE_CARD_STATUSES:
            raise NotFoundError("no such card")
        return card

    return await run_unit(services.engine, load, read_only=True)


async def unbind_card(
    services: Services, user_id: str, actor: Actor, *, card_id: str, payment_password: str
) -> None:
    """Revoke the agreement at the bank, then mark the card unbound.

    Refusals, in order: the PIN check's (``account_frozen``, ``payment_password_not_set``/
    ``_locked``/``_invalid``); ``not_found`` (no live card of the caller's);
    ``card_operation_pending`` while a top-up from the card is pending; the bank's (if it
    cannot be reached nothing changed and the user may try again).
    """
    await require_payment_password(services, user_id=user_id, pin=payment_password, actor=actor)

    async def load(uow: UnitOfWork) -> Card:
        card = await _owned_card(uow, user_id, card_id, lock=False)
        if card.status not in LIVE_CARD_STATUSES:
            raise NotFoundError("no such card")
        if await repository.has_pending_topup(uow, card_id):
            raise CardOperationPendingError("a top-up from this card is still being processed")
        return card

    card = await run_unit(services.engine, load, read_only=True)
    if card.agreement_token_encrypted is not None:
        token = services.security.cipher.decrypt(
            card.agreement_token_encrypted, context=f"agreement:{card_id}"
        )
        await services.bank.unbind(agreement_token=token)
    clock = services.clock

    async def record(uow: UnitOfWork) -> None:
        user = await locked_user(uow, user_id)
        locked = await _owned_card(uow, user_id, card_id, lock=True)
        if locked.status not in LIVE_CARD_STATUSES:
            return
        now = clock.now()
        locked.status = CardStatus.UNBOUND
        locked.unbound_at = now
        await uow.session.flush()
        await recompute_tier(user, has_bound_card=await repository.has_active_card(uow, user_id))
        user.updated_at = now
        await audit_user(uow, clock, actor, "card.unbound", user_id, details={"card_id": card_id})

    await run_unit(services.engine, record)
