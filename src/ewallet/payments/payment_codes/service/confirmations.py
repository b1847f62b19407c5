"""The user confirms a pending payment-code charge with the payment password.

A charge above the no-PIN limits is kept pending (:mod:`.charges`); ``POST
/v1/me/payment-code/confirmations/{challenge_id}`` pays it exactly once, in the order of a
payment's refusals, and a rerun of a confirmation that paid answers its payment.
"""

from __future__ import annotations

from ewallet.audit.service import Actor
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.request_key import RequestKey
from ewallet.models.payment_codes import ChargeStatus
from ewallet.payments import repository as shared
from ewallet.payments.errors import (
    OrderNotPayableError,
)
from ewallet.payments.payment_codes import repository
from ewallet.payments.payment_codes.service.charges import charge_view
from ewallet.payments.payment_codes.views import ChargeView
from ewallet.payments.service import (
    check_merchant,
    once_per_request,
    payment_accounts,
    settle_order,
)
from ewallet.payments.views import PaymentView
from ewallet.risk.spending import AuthStrength, SpendChannel
from ewallet.services import Services


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

    With ``request_key``, a rerun of a confirmation that paid answers its payment, before
    any check (no second PIN), also when it races its first run.
    """
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

    async def load(uow: UnitOfWork) -> ChargeView:
        conn = await uow.connection()
        row = await repository.charge_of_user(conn, charge_id=challenge_id, user_id=user_id)
        if row is None:
            raise NotFoundError("no such charge")
        check_merchant(await shared.merchant_view(conn, row.merchant_id))
        return await charge_view(conn, row, now=clock.now())

    waiting = await run_unit(services.engine, load, read_only=True)
    if waiting.status != ChargeStatus.PENDING:
        raise OrderNotPayableError(
            f"the charge is {waiting.status}", order_status=waiting.order.status
        )
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
            )
        ).payment
        await repository.set_charge_payment(conn, charge_id=challenge_id, payment_id=payment_id)
        return view

    return await run_unit(services.engine, work)
