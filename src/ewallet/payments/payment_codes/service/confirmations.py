"""The user confirms a pending payment-code charge with the payment password, or declines it.

A charge above the no-PIN limits is kept pending (:mod:`.charges`); ``POST
/v1/me/payment-code/confirmations/{challenge_id}`` pays it exactly once, in the order of a
payment's refusals, and a rerun of a confirmation that paid answers its payment.

The screen that shows the code follows the user's charges (:func:`activity`, and the cheap
:func:`activity_mark` a live channel polls), shows one waiting charge
(:func:`charge_of_user`) and lets the user decline it (:func:`decline`): the charge and
its order then end at once, as if their five minutes had run out.

A charge a bound card funds (:mod:`.funding`) is confirmed through the card-funding path
of orders instead (:func:`_confirm_by_card`): the same checks, the bank asked once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, audit_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.request_key import RequestKey
from ewallet.models.payment_codes import ChargeStatus
from ewallet.payments import repository as shared
from ewallet.payments.card_funding.reading import PENDING
from ewallet.payments.card_funding.service import earlier_payment, pay_order_funded
from ewallet.payments.card_funding.views import FundingChoice
from ewallet.payments.errors import (
    OrderNotPayableError,
)
from ewallet.payments.payment_codes import repository
from ewallet.payments.payment_codes.repository import ChargeRow
from ewallet.payments.payment_codes.service import funding
from ewallet.payments.payment_codes.service.charges import charge_view
from ewallet.payments.payment_codes.views import ChargeView, CodeActivity
from ewallet.payments.service import (
    check_merchant,
    once_per_request,
    payment_accounts,
    settle_order,
)
from ewallet.payments.views import PaymentView
from ewallet.risk.spending import AuthStrength, SpendChannel
from ewallet.services import Services

# How long the screen keeps saying "paid" after the newest charge went through.
RECENT: Final = timedelta(minutes=5)


async def confirm(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    challenge_id: str,
    pin: str,
    request_key: RequestKey | None = None,
) -> PaymentView:
    """``POST /v1/me/payment-code/confirmations/{challenge_id}``: pay a pending charge.

    Only the charged user sees it (anyone else: ``not_found``). Checked in the payment
    order: the merchant (``merchant_not_supported``), the charge still pending and in
    time (``order_not_payable``), then the PIN (``account_frozen`` …
    ``payment_password_invalid``), limits with the PIN, the balance. The pending row is
    claimed by a conditional update in the money unit, so it is paid exactly once; a
    refusal after the PIN rolls back and leaves it pending until it expires.

    A risk ``challenge`` on the confirmation counts as passed: the PIN typed on the payer's
    own signed-in phone for this very charge is the second factor a challenge asks for
    (docs/payment-code.md, "Risk challenges"); the stored decision says so.

    With ``request_key``, a rerun of a confirmation that paid answers its payment, before
    any check (no second PIN), also when it races its first run.
    """
    earlier = await earlier_payment(services, user_id=user_id, request_key=request_key)
    if earlier is not None:  # also a card-funded confirmation, paid or pending
        return earlier
    waiting = await _waiting(services, user_id=user_id, challenge_id=challenge_id)
    order = waiting.order
    choice = await funding.confirmation_funding(services, user_id, amount=order.amount)
    if choice is not None:
        return await _confirm_by_card(
            services,
            actor,
            waiting,
            user_id=user_id,
            pin=pin,
            choice=choice,
            request_key=request_key,
        )
    return await once_per_request(
        services,
        user_id=user_id,
        request_key=request_key,
        pay=lambda digest: _confirm(
            services,
            actor,
            user_id=user_id,
            challenge_id=challenge_id,
            pin=pin,
            request_key=digest,
        ),
    )


async def _waiting(services: Services, *, user_id: str, challenge_id: str) -> ChargeView:
    """The user's charge, still pending and in time, of a merchant that still takes wallet
    payments (``not_found``, ``merchant_not_supported``, ``order_not_payable``)."""

    async def load(uow: UnitOfWork) -> ChargeView:
        conn = await uow.connection()
        row = await repository.charge_of_user(conn, charge_id=challenge_id, user_id=user_id)
        if row is None:
            raise NotFoundError("no such charge")
        check_merchant(await shared.merchant_view(conn, row.merchant_id))
        return await charge_view(conn, row, now=services.clock.now())

    waiting = await run_unit(services.engine, load, read_only=True)
    if waiting.status != ChargeStatus.PENDING:
        raise OrderNotPayableError(
            f"the charge is {waiting.status}", order_status=waiting.order.status
        )
    return waiting


async def _confirm_by_card(
    services: Services,
    actor: Actor,
    waiting: ChargeView,
    *,
    user_id: str,
    pin: str,
    choice: FundingChoice,
    request_key: RequestKey | None,
) -> PaymentView:
    """Pay the charge's order through the card-funding path of orders (the password, the
    order's reservation, the card's daily cap, the bank asked once; docs/card-payments.md),
    then mark the charge paid. A decline leaves the charge pending until it expires; an
    unknown answer leaves it pending too, and the settle job pays its order -- the charge
    then reads ``succeeded`` from its order (:func:`.charges.charge_view`)."""
    payment = await pay_order_funded(
        services,
        actor,
        user_id=user_id,
        order_id=waiting.order.id,
        pin=pin,
        funding=choice,
        request_key=request_key,
    )
    if payment.status != PENDING:

        async def mark(uow: UnitOfWork) -> None:
            await repository.mark_paid(
                await uow.connection(),
                charge_id=waiting.id,
                payment_id=payment.id,
                auth=AuthStrength.PIN.value,
                now=services.clock.now(),
            )

        await run_unit(services.engine, mark)
    return payment


async def _confirm(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    challenge_id: str,
    pin: str,
    request_key: str | None,
) -> PaymentView:
    clock = services.clock
    waiting = await _waiting(services, user_id=user_id, challenge_id=challenge_id)
    await require_payment_password(services, user_id=user_id, pin=pin, actor=actor)
    order = waiting.order
    accounts = await payment_accounts(
        services, user_id=user_id, merchant_id=order.merchant_id, currency=order.amount.currency
    )
    payment_id = new_id("pay")

    async def work(uow: UnitOfWork) -> PaymentView:
        conn = await uow.connection()
        now = clock.now()
        if not await repository.claim_pending(
            conn, charge_id=challenge_id, auth=AuthStrength.PIN.value, now=now
        ):
            raise OrderNotPayableError("the charge was confirmed or expired meanwhile")
        view = (
            await settle_order(
                uow,
                services,
                order=order,
                user_id=user_id,
                payment_id=payment_id,
                accounts=accounts,
                channel=SpendChannel.PAYMENT_CODE,
                auth=AuthStrength.PIN,
                request_key=request_key,
                confirmed_by=f"payment_code_confirmation:{challenge_id}",
            )
        ).payment
        await repository.set_charge_payment(conn, charge_id=challenge_id, payment_id=payment_id)
        return view

    return await run_unit(services.engine, work)


async def charge_of_user(services: Services, user_id: str, *, challenge_id: str) -> ChargeView:
    """One charge of the user's code, as the confirmation page shows it (reads only);
    anyone else's is ``not_found``."""

    async def work(uow: UnitOfWork) -> ChargeView:
        conn = await uow.connection()
        row = await repository.charge_of_user(conn, charge_id=challenge_id, user_id=user_id)
        if row is None:
            raise NotFoundError("no such charge")
        return await charge_view(conn, row, now=services.clock.now())

    return await run_unit(services.engine, work, read_only=True)


def _mark(waiting: Sequence[ChargeRow], newest: ChargeRow | None, now: datetime) -> str:
    parts = [row.id for row in waiting]
    if newest is not None:
        expired = newest.status == ChargeStatus.PENDING and newest.expires_at <= now
        parts.append(f"{newest.id}:{ChargeStatus.EXPIRED if expired else newest.status}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


async def _rows(
    conn: AsyncConnection, *, user_id: str, now: datetime
) -> tuple[list[ChargeRow], ChargeRow | None]:
    waiting = await repository.waiting_charges(conn, user_id=user_id, now=now)
    return waiting, await repository.newest_charge(conn, user_id=user_id)


async def activity(services: Services, user_id: str) -> CodeActivity:
    """The charges waiting for the user's PIN, the newest charge if just paid, and their
    mark (:class:`~..views.CodeActivity`; reads only)."""

    async def work(uow: UnitOfWork) -> CodeActivity:
        conn = await uow.connection()
        now = services.clock.now()
        waiting, newest = await _rows(conn, user_id=user_id, now=now)
        views = tuple([await charge_view(conn, row, now=now) for row in waiting])
        just_paid = None
        if newest is not None and newest.status == ChargeStatus.SUCCEEDED:
            view = await charge_view(conn, newest, now=now)
            paid_at = view.order.paid_at
            if paid_at is not None and now - paid_at <= RECENT:
                just_paid = view
        return CodeActivity(views, just_paid, _mark(waiting, newest, now))

    return await run_unit(services.engine, work, read_only=True)


async def activity_mark(services: Services, user_id: str) -> str:
    """Only :attr:`CodeActivity.mark`: two indexed reads, for a live channel to poll."""

    async def work(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        now = services.clock.now()
        waiting, newest = await _rows(conn, user_id=user_id, now=now)
        return _mark(waiting, newest, now)

    return await run_unit(services.engine, work, read_only=True)


async def decline(
    services: Services, actor: Actor, *, user_id: str, challenge_id: str
) -> ChargeView:
    """The user refuses a charge waiting for the PIN: it and its order end now.

    Only the charged user may (anyone else: ``not_found``); a charge no longer waiting
    (confirmed, expired or declined before) is ``order_not_payable``. Nothing moves and
    the code stays used. The merchant reads the order as ``expired`` at once (no webhook:
    an order's expiry never sends one) and the cashier asks for another way to pay. A
    confirmation racing the decline takes the charge's row first or finds it ended.
    Audited as ``payment_code.declined``.
    """
    clock = services.clock

    async def work(uow: UnitOfWork) -> ChargeView:
        conn = await uow.connection()
        now = clock.now()
        row = await repository.charge_of_user(conn, charge_id=challenge_id, user_id=user_id)
        if row is None:
            raise NotFoundError("no such charge")
        if not await repository.end_pending(conn, charge_id=challenge_id, user_id=user_id, now=now):
            current = await charge_view(conn, row, now=now)
            raise OrderNotPayableError(
                f"the charge is {current.status}", order_status=current.order.status
            )
        await shared.expire_order(conn, order_id=row.order_id, now=now)
        view = await charge_view(conn, replace(row, expires_at=now), now=now)
        await audit_user(
            uow,
            clock,
            actor,
            "payment_code.declined",
            user_id,
            details={
                "charge_id": row.id,
                "order_id": row.order_id,
                "merchant_id": row.merchant_id,
                "amount": view.order.amount.to_decimal_string(),
                "currency": view.order.amount.currency,
            },
        )
        return view

    return await run_unit(services.engine, work)
