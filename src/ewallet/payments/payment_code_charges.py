"""Merchant charges of a scanned payment code, and the user's PIN confirmation of large ones.

``POST /v1/merchant/charges`` checks, in this order, each with its code:

1. the merchant takes wallet payments (``merchant_not_supported``); an ``out_trade_no``
   this merchant already charged answers that charge again (same amount and subject),
   or ``out_trade_no_conflict``;
2. the code is ours, made with the user's secret in this step or the one before, and not
   yet used (``payment_code_invalid``);
3. the account is not frozen (``account_frozen``); a code made before a freeze/unfreeze
   is ``payment_code_invalid`` (its secret was retired, :mod:`.payment_code_secrets`);
4. the limits (``limit_exceeded``) counted as a payment-code spend without the PIN;
5. the balance (``insufficient_balance``).

A charge is an order plus, once paid, a payment: :func:`~ewallet.payments.paying.settle_order`
moves the money exactly as ``POST /v1/payments`` does, and the merchant follows it like
any order (``GET /v1/merchant/orders/{id}``, the ``order.paid`` webhook).

When step 4 fails only on a limit the PIN would lift (the no-PIN daily total, payment-code
total or count), the charge is kept *pending* instead: its order (awaiting payment for
:data:`CONFIRM_SECONDS`) and its ``payment_code_charges`` row (which uses the code up) are
committed, the user is notified, and the merchant gets ``401 step_up_required`` with
``challenge_id`` (the charge id) and ``order_id``. The user confirms with
``POST /v1/me/payment-code/confirmations/{challenge_id}`` and the PIN; that unit claims the
pending row (exactly once) and settles the order with ``AuthStrength.PIN``.

Any other refusal leaves nothing behind, the code included: it was not used, so the
cashier may scan it again (within its minute) once the reason is gone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor
from ewallet.identity.errors import StepUpRequiredError
from ewallet.identity.payment_password import ensure_active, locked_user, verify_payment_password
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.payments import password_free
from ewallet.payments import repository as repo
from ewallet.payments.errors import OrderNotPayableError, OutTradeNoConflictError
from ewallet.payments.paying import (
    PaymentServices,
    check_merchant,
    payment_accounts,
    settle_order,
)
from ewallet.payments.payment_code import PaymentCodeInvalidError, candidates
from ewallet.payments.payment_code_secrets import (
    UserSecret,
    code_charges,
    freeze_epoch,
    secret_by_lookup,
)
from ewallet.payments.views import OrderView, PaymentView
from ewallet.risk.spending import AuthStrength, LimitExceededError, SpendChannel

CONFIRM_SECONDS: Final = 300
DEFAULT_SUBJECT: Final = "Payment code charge"


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    payment_code: str
    amount: Money
    out_trade_no: str
    subject: str

    def digest(self) -> str:
        """What makes two charges with one ``out_trade_no`` the same charge (not the code:
        a retried charge may come with a freshly scanned one)."""
        content = ["payment_code", self.amount.minor, self.amount.currency, self.subject]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChargeView:
    id: str
    status: str  # pending | succeeded | expired
    order: OrderView
    payment_id: str | None
    auth: str | None
    expires_at: datetime

    def step_up(self) -> StepUpRequiredError:
        """The merchant's answer while the user has not confirmed: wait for them."""
        return StepUpRequiredError(
            "the customer must confirm this charge with the payment password",
            challenge_id=self.id,
            methods=["payment_password"],
            order_id=self.order.id,
            expires_at=self.expires_at.isoformat(),
        )


@dataclass(frozen=True, slots=True)
class CodeUse:
    """A code that verified: whose it is and which (step, counter) it uses up."""

    secret: UserSecret
    step: int
    counter: int


async def _charge_view(conn: AsyncConnection, row: Any, *, now: datetime) -> ChargeView:
    order = await repo.order_view(conn, row.order_id, now=now)
    assert order is not None
    status = row.status
    if status == "pending" and row.expires_at <= now:
        status = "expired"
    return ChargeView(row.id, status, order, row.payment_id, row.auth, row.expires_at)


async def _verified(
    conn: AsyncConnection, services: PaymentServices, code: str, *, now: datetime
) -> CodeUse:
    """Find the code's user by its lookup part and check its one-time value (step 2)."""
    for candidate in candidates(code, now=now, blinding=services.security.digest):
        secret = await secret_by_lookup(conn, services.security.cipher, candidate.lookup_id)
        if secret is not None and candidate.matches(secret.secret):
            return CodeUse(secret, candidate.step, candidate.counter)
    raise PaymentCodeInvalidError("this payment code is not valid")


async def _claim_code(
    uow: UnitOfWork, services: PaymentServices, code: str, *, user_id: str, now: datetime
) -> tuple[User, CodeUse]:
    """Steps 2-3 under the user's row lock: the code is valid and unused, the account active."""
    user = await locked_user(uow, user_id)
    conn = await uow.connection()
    use = await _verified(conn, services, code, now=now)
    if use.secret.user_id != user_id:  # the secret moved between reads: treat as unknown
        raise PaymentCodeInvalidError("this payment code is not valid")
    used = await conn.execute(
        select(code_charges.c.id).where(
            code_charges.c.user_id == user_id,
            code_charges.c.step == use.step,
            code_charges.c.counter == use.counter,
        )
    )
    if used.first() is not None:
        raise PaymentCodeInvalidError("this payment code was already used")
    ensure_active(user)
    if use.secret.freeze_event_id < await freeze_epoch(conn, user_id):
        raise PaymentCodeInvalidError("this payment code was made before a freeze")
    return user, use


async def _look_up(
    services: PaymentServices, *, merchant_id: str, request: ChargeRequest
) -> ChargeView | str:
    """Steps 1-2 reading only: the merchant's earlier charge with this ``out_trade_no`` if
    there is one, else the id of the user the code belongs to (one read unit for both)."""

    async def work(uow: UnitOfWork) -> ChargeView | str:
        conn = await uow.connection()
        now = services.clock.now()
        check_merchant(await repo.merchant_row(conn, merchant_id))
        order = await repo.order_by_out_trade_no(
            conn, merchant_id=merchant_id, out_trade_no=request.out_trade_no
        )
        if order is None:
            use = await _verified(conn, services, request.payment_code, now=now)
            return use.secret.user_id
        row = (
            await conn.execute(select(code_charges).where(code_charges.c.order_id == order.id))
        ).first()
        if row is None or order.request_hash != request.digest():
            raise OutTradeNoConflictError(
                "this out_trade_no was already used for an order with other content"
            )
        return await _charge_view(conn, row, now=now)

    return await run_unit(services.engine, work, read_only=True)


async def _insert_order(
    conn: AsyncConnection,
    *,
    merchant_id: str,
    request: ChargeRequest,
    now: datetime,
) -> str:
    order_id = new_id("ord")
    await conn.execute(
        insert(repo.orders).values(
            id=order_id,
            merchant_id=merchant_id,
            out_trade_no=request.out_trade_no,
            amount=request.amount.minor,
            currency=request.amount.currency,
            subject=request.subject,
            notify_url=None,
            status="awaiting_payment",
            request_hash=request.digest(),
            payment_id=None,
            expires_at=now + timedelta(seconds=CONFIRM_SECONDS),
            paid_at=None,
            closed_at=None,
            created_at=now,
            updated_at=now,
        )
    )
    return order_id


async def _insert_charge(
    conn: AsyncConnection,
    *,
    order_id: str,
    merchant_id: str,
    use: CodeUse,
    amount: Money,
    now: datetime,
    payment_id: str | None,
) -> Any:
    charge_id = new_id("pcc")
    await conn.execute(
        insert(code_charges).values(
            id=charge_id,
            order_id=order_id,
            merchant_id=merchant_id,
            user_id=use.secret.user_id,
            step=use.step,
            counter=use.counter,
            amount=amount.minor,
            currency=amount.currency,
            status="pending" if payment_id is None else "succeeded",
            auth=None if payment_id is None else AuthStrength.NONE.value,
            payment_id=payment_id,
            expires_at=now + timedelta(seconds=CONFIRM_SECONDS),
            created_at=now,
            completed_at=None if payment_id is None else now,
        )
    )
    return (await conn.execute(select(code_charges).where(code_charges.c.id == charge_id))).one()


async def charge(
    services: PaymentServices, *, merchant_id: str, request: ChargeRequest
) -> tuple[ChargeView, bool]:
    """The charge for ``request`` and whether this call made it; see the module doc.

    Raises ``step_up_required`` (after committing the pending charge) when the user must
    confirm it, also when the same ``out_trade_no`` is sent again while it is pending.
    """
    try:
        return await _charge_once(services, merchant_id=merchant_id, request=request)
    except IntegrityError:
        # A concurrent charge took the same out_trade_no or code: answer as its repeat.
        return await _charge_once(services, merchant_id=merchant_id, request=request)


async def _charge_once(
    services: PaymentServices, *, merchant_id: str, request: ChargeRequest
) -> tuple[ChargeView, bool]:
    found = await _look_up(services, merchant_id=merchant_id, request=request)
    if isinstance(found, ChargeView):
        if found.status == "pending":
            raise found.step_up()
        return found, False
    user_id = found
    accounts = await payment_accounts(
        services, user_id=user_id, merchant_id=merchant_id, currency=request.amount.currency
    )
    clock = services.clock

    async def without_pin(uow: UnitOfWork) -> ChargeView:
        now = clock.now()
        _, use = await _claim_code(uow, services, request.payment_code, user_id=user_id, now=now)
        conn = await uow.connection()
        order_id = await _insert_order(conn, merchant_id=merchant_id, request=request, now=now)
        order = await repo.order_view(conn, order_id, now=now)
        assert order is not None
        payment_id = new_id("pay")
        await settle_order(
            uow,
            services,
            order=order,
            user_id=user_id,
            payment_id=payment_id,
            accounts=accounts,
            channel=SpendChannel.PAYMENT_CODE,
            auth=AuthStrength.NONE,
        )
        row = await _insert_charge(
            conn,
            order_id=order_id,
            merchant_id=merchant_id,
            use=use,
            amount=request.amount,
            now=now,
            payment_id=payment_id,
        )
        return await _charge_view(conn, row, now=now)

    async def pending(uow: UnitOfWork) -> ChargeView:
        now = clock.now()
        user, use = await _claim_code(uow, services, request.payment_code, user_id=user_id, now=now)
        conn = await uow.connection()
        order_id = await _insert_order(conn, merchant_id=merchant_id, request=request, now=now)
        row = await _insert_charge(
            conn,
            order_id=order_id,
            merchant_id=merchant_id,
            use=use,
            amount=request.amount,
            now=now,
            payment_id=None,
        )
        view = await _charge_view(conn, row, now=now)
        await notify_user(
            uow.session,
            clock=clock,
            user=user,
            kind="payment_code_confirmation",
            params={
                "amount": request.amount.to_decimal_string(),
                "currency": request.amount.currency,
                "merchant": view.order.merchant_name,
                "challenge_id": view.id,
            },
            sms=False,
        )
        return view

    try:
        return await run_unit(services.engine, without_pin), True
    except LimitExceededError as refused:
        if not password_free.needs_pin(refused):
            raise
    raise (await run_unit(services.engine, pending)).step_up()


async def confirm(
    services: PaymentServices, *, user_id: str, challenge_id: str, pin: str, actor: Actor
) -> PaymentView:
    """``POST /v1/me/payment-code/confirmations/{challenge_id}``: pay a pending charge.

    Only the charged user sees it (anyone else: ``not_found``). Checked in the payment
    order: the merchant (``merchant_not_supported``), the charge still pending and in
    time (``order_not_payable``), then the PIN (``account_frozen`` …
    ``payment_password_invalid``), limits with the PIN, the balance. The pending row is
    claimed by a conditional update in the money unit, so it is paid exactly once; a
    refusal after the PIN rolls back and leaves it pending until it expires.
    """
    clock = services.clock

    async def load(uow: UnitOfWork) -> ChargeView:
        conn = await uow.connection()
        row = (
            await conn.execute(
                select(code_charges).where(
                    code_charges.c.id == challenge_id, code_charges.c.user_id == user_id
                )
            )
        ).first()
        if row is None:
            raise NotFoundError("no such charge")
        check_merchant(await repo.merchant_row(conn, row.merchant_id))
        return await _charge_view(conn, row, now=clock.now())

    pending = await run_unit(services.engine, load, read_only=True)
    if pending.status != "pending":
        raise OrderNotPayableError(
            f"the charge is {pending.status}", order_status=pending.order.status
        )
    await verify_payment_password(
        services.engine,
        clock=clock,
        settings=services.settings,
        security=services.security,
        user_id=user_id,
        pin=pin,
        actor=actor,
    )
    order = pending.order
    accounts = await payment_accounts(
        services, user_id=user_id, merchant_id=order.merchant_id, currency=order.amount.currency
    )
    payment_id = new_id("pay")

    async def work(uow: UnitOfWork) -> PaymentView:
        conn = await uow.connection()
        now = clock.now()
        claimed = await conn.execute(
            update(code_charges)
            .where(
                code_charges.c.id == challenge_id,
                code_charges.c.status == "pending",
                code_charges.c.expires_at > now,
            )
            .values(status="succeeded", auth=AuthStrength.PIN.value, completed_at=now)
        )
        if claimed.rowcount != 1:
            raise OrderNotPayableError("the charge was confirmed or expired meanwhile")
        view = await settle_order(
            uow,
            services,
            order=order,
            user_id=user_id,
            payment_id=payment_id,
            accounts=accounts,
            channel=SpendChannel.PAYMENT_CODE,
            auth=AuthStrength.PIN,
        )
        await conn.execute(
            update(code_charges)
            .where(code_charges.c.id == challenge_id)
            .values(payment_id=payment_id)
        )
        return view

    return await run_unit(services.engine, work)
