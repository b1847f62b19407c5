"""Merchant charges of a scanned payment code, and the user's PIN confirmation of large ones.

``POST /v1/merchant/charges`` checks, in this order, each with its code:

1. the merchant takes wallet payments (``merchant_not_supported``); an ``out_trade_no``
   this merchant already charged answers that charge again (same amount and subject),
   or ``out_trade_no_conflict``;
2. the merchant key (and terminal, if named) has not spent its budget of unknown codes
   (``too_many_attempts``, :mod:`.payment_code_guard`); the code is ours, made with the
   user's secret in this step or the one before, and not yet used (``payment_code_invalid``,
   which spends one failure of that budget);
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
pending row (exactly once) and settles the order with ``AuthStrength.PIN``. The payment keeps
the confirmation's request key (:mod:`ewallet.kit.request_key`), so a rerun of a confirmation
that paid (its answer lost in a crash) answers that payment, not ``order_not_payable``.

Any other refusal leaves nothing behind, the code included: it was not used, so the
cashier may scan it again (within its minute) once the reason is gone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor
from ewallet.identity.errors import StepUpRequiredError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.payment_password.service import verify_payment_password
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.models.identity import User
from ewallet.models.tables import payment_code_charges as code_charges
from ewallet.models.tables import payment_code_secrets as code_secrets
from ewallet.notify.service import notify_user
from ewallet.payments import password_free
from ewallet.payments import repository as repo
from ewallet.payments.errors import (
    OrderNotPayableError,
    OutTradeNoConflictError,
    require_wallet_currency,
)
from ewallet.payments.paying import (
    PaymentServices,
    check_merchant,
    once_per_request,
    payment_accounts,
    settle_order,
)
from ewallet.payments.payment_code import PaymentCodeInvalidError, candidates, time_step
from ewallet.payments.payment_code_guard import (
    GuessPolicy,
    count_failure,
    hold_budgets,
    subjects_of,
)
from ewallet.payments.payment_code_secrets import UserSecret, freeze_epoch_query, secret_by_lookup
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
    terminal_id: str | None = None  # the cashier's device: a guessing budget of its own

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
    """A code that verified: whose it is and which (step, counter) it uses up.

    ``newest_step`` is the newest step accepted when it verified: while it is still the
    newest, the code reads the same (same candidates), so a later unit need not verify it
    again as long as the secret's row is unchanged.
    """

    secret: UserSecret
    step: int
    counter: int
    newest_step: int


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
    readings = candidates(code, now=now, blinding=services.security.digest)
    for candidate in readings:
        secret = await secret_by_lookup(conn, services.security.cipher, candidate.lookup_id)
        if secret is not None and candidate.matches(secret.secret):
            return CodeUse(secret, candidate.step, candidate.counter, readings[0].step)
    raise PaymentCodeInvalidError("this payment code is not valid")


@dataclass(frozen=True, slots=True)
class _ClaimState:
    """What the claim checks under the lock, read in one statement."""

    sealed: str | None  # the secret's stored form now (None: the row is gone)
    used: bool  # a charge already took this (step, counter)
    epoch: int  # the newest freeze/unfreeze event


async def _claim_state(conn: AsyncConnection, use: CodeUse) -> _ClaimState:
    user_id = use.secret.user_id
    sealed = select(code_secrets.c.secret_encrypted).where(
        code_secrets.c.lookup_id == use.secret.lookup_id
    )
    used = exists().where(
        code_charges.c.user_id == user_id,
        code_charges.c.step == use.step,
        code_charges.c.counter == use.counter,
    )
    statement = select(
        sealed.scalar_subquery().label("sealed"),
        used.label("used"),
        freeze_epoch_query(user_id).scalar_subquery().label("epoch"),
    )
    row = (await conn.execute(statement)).one()
    return _ClaimState(row.sealed, bool(row.used), int(row.epoch))


async def _claim_code(
    uow: UnitOfWork, services: PaymentServices, code: str, *, seen: CodeUse, now: datetime
) -> tuple[User, CodeUse]:
    """Steps 2-3 under the user's row lock: the code is valid and unused, the account active.

    ``seen`` is the look-up unit's verification. It stands if the code still reads the
    same (the newest accepted step has not moved on) and the secret's row still holds what
    it verified against; otherwise the code is verified afresh, as the look-up did.
    """
    user_id = seen.secret.user_id
    user = await locked_user(uow, user_id)
    conn = await uow.connection()
    use = seen
    if time_step(now) != seen.newest_step:
        use = await _verified(conn, services, code, now=now)
    state = await _claim_state(conn, use) if use.secret.user_id == user_id else None
    if state is not None and state.sealed != use.secret.sealed:
        use = await _verified(conn, services, code, now=now)  # the secret changed meanwhile
        state = await _claim_state(conn, use) if use.secret.user_id == user_id else None
    if state is None:  # the secret moved between reads: treat as unknown
        raise PaymentCodeInvalidError("this payment code is not valid")
    if state.used:
        raise PaymentCodeInvalidError("this payment code was already used")
    ensure_active(user)
    if use.secret.freeze_event_id < state.epoch:
        raise PaymentCodeInvalidError("this payment code was made before a freeze")
    return user, use


@dataclass(frozen=True, slots=True)
class UnknownAccount:
    """A look-up that found no valid code; counted against the budgets, then raised."""

    error: PaymentCodeInvalidError


async def _look_up(
    services: PaymentServices, *, merchant_id: str, request: ChargeRequest
) -> ChargeView | CodeUse:
    """Steps 1-2: the merchant's earlier charge with this ``out_trade_no`` if there is one,
    else the verified code, whose user it is (one unit for both). The code is looked up
    under the guessing budgets' row locks, and a failure is counted before the unit
    commits (:mod:`.payment_code_guard`)."""
    clock = services.clock
    policy = GuessPolicy.from_settings(services.settings)
    subjects = subjects_of(merchant_id, request.terminal_id)

    async def work(uow: UnitOfWork) -> ChargeView | CodeUse | UnknownAccount:
        conn = await uow.connection()
        now = clock.now()
        merchant = await repo.merchant_and_order_number(
            conn, merchant_id=merchant_id, out_trade_no=request.out_trade_no
        )
        check_merchant(merchant)
        if merchant.order_id is None:
            rows = await hold_budgets(
                uow, merchant_id=merchant_id, subjects=subjects, now=now, policy=policy
            )
            try:
                return await _verified(conn, services, request.payment_code, now=now)
            except PaymentCodeInvalidError as unknown:
                await count_failure(
                    uow,
                    clock=clock,
                    merchant_id=merchant_id,
                    subjects=subjects,
                    rows=rows,
                    now=now,
                    policy=policy,
                )
                return UnknownAccount(unknown)
        row = (
            await conn.execute(
                select(code_charges).where(code_charges.c.order_id == merchant.order_id)
            )
        ).first()
        if row is None or merchant.order_request_hash != request.digest():
            raise OutTradeNoConflictError(
                "this out_trade_no was already used for an order with other content"
            )
        return await _charge_view(conn, row, now=now)

    found = await run_unit(services.engine, work)
    if isinstance(found, UnknownAccount):
        raise found.error
    return found


async def _insert_order(
    conn: AsyncConnection,
    *,
    merchant: Any,
    request: ChargeRequest,
    now: datetime,
) -> OrderView:
    """Write the charge's order; return its view as a read back would show it."""
    order = OrderView(
        id=new_id("ord"),
        merchant_id=merchant.id,
        merchant_name=merchant.name,
        out_trade_no=request.out_trade_no,
        amount=request.amount,
        subject=request.subject,
        notify_url=None,
        status="awaiting_payment",
        payment_id=None,
        refunded=Money(0, request.amount.currency),
        expires_at=now + timedelta(seconds=CONFIRM_SECONDS),
        paid_at=None,
        closed_at=None,
        created_at=now,
    )
    await conn.execute(
        insert(repo.orders).values(
            id=order.id,
            merchant_id=order.merchant_id,
            out_trade_no=order.out_trade_no,
            amount=order.amount.minor,
            currency=order.amount.currency,
            subject=order.subject,
            notify_url=order.notify_url,
            status=order.status,
            request_hash=request.digest(),
            payment_id=None,
            expires_at=order.expires_at,
            paid_at=None,
            closed_at=None,
            created_at=now,
            updated_at=now,
        )
    )
    return order


async def _insert_charge(
    conn: AsyncConnection,
    *,
    order: OrderView,
    use: CodeUse,
    now: datetime,
    payment_id: str | None,
) -> ChargeView:
    """Write the charge's row (using the code up); return its view without reading it back."""
    view = ChargeView(
        id=new_id("pcc"),
        status="pending" if payment_id is None else "succeeded",
        order=order,
        payment_id=payment_id,
        auth=None if payment_id is None else AuthStrength.NONE.value,
        expires_at=now + timedelta(seconds=CONFIRM_SECONDS),
    )
    await conn.execute(
        insert(code_charges).values(
            id=view.id,
            order_id=order.id,
            merchant_id=order.merchant_id,
            user_id=use.secret.user_id,
            step=use.step,
            counter=use.counter,
            amount=order.amount.minor,
            currency=order.amount.currency,
            status=view.status,
            auth=view.auth,
            payment_id=payment_id,
            expires_at=view.expires_at,
            created_at=now,
            completed_at=None if payment_id is None else now,
        )
    )
    return view


async def charge(
    services: PaymentServices, *, merchant_id: str, request: ChargeRequest
) -> tuple[ChargeView, bool]:
    """The charge for ``request`` and whether this call made it; see the module doc.

    Raises ``step_up_required`` (after committing the pending charge) when the user must
    confirm it, also when the same ``out_trade_no`` is sent again while it is pending.
    An amount in a currency wallets do not hold is ``currency_not_supported``.
    """
    require_wallet_currency(request.amount.currency)
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
    seen = found
    user_id = seen.secret.user_id
    accounts = await payment_accounts(
        services, user_id=user_id, merchant_id=merchant_id, currency=request.amount.currency
    )
    clock = services.clock

    async def claimed(uow: UnitOfWork, now: datetime) -> tuple[User, CodeUse, Any, OrderView]:
        """Claim the code and write the order. The merchant's row is read in this unit for
        the order's view, and settle_order re-checks it (disabled since the look-up?)."""
        user, use = await _claim_code(uow, services, request.payment_code, seen=seen, now=now)
        conn = await uow.connection()
        merchant = await repo.merchant_row(conn, merchant_id)
        order = await _insert_order(conn, merchant=merchant, request=request, now=now)
        return user, use, merchant, order

    async def without_pin(uow: UnitOfWork) -> ChargeView:
        now = clock.now()
        user, use, merchant, order = await claimed(uow, now)
        conn = await uow.connection()
        payment_id = new_id("pay")
        settled = await settle_order(
            uow,
            services,
            order=order,
            user_id=user_id,
            payment_id=payment_id,
            accounts=accounts,
            channel=SpendChannel.PAYMENT_CODE,
            auth=AuthStrength.NONE,
            merchant=merchant,
            payer=user,
        )
        return await _insert_charge(
            conn, order=settled.order, use=use, now=now, payment_id=payment_id
        )

    async def pending(uow: UnitOfWork) -> ChargeView:
        now = clock.now()
        user, use, _, order = await claimed(uow, now)
        conn = await uow.connection()
        view = await _insert_charge(conn, order=order, use=use, now=now, payment_id=None)
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
    services: PaymentServices,
    *,
    user_id: str,
    challenge_id: str,
    pin: str,
    actor: Actor,
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
        services.engine,
        user_id=user_id,
        request_key=request_key,
        pay=lambda digest: _confirm(
            services,
            user_id=user_id,
            challenge_id=challenge_id,
            pin=pin,
            actor=actor,
            request_key=digest,
        ),
    )


async def _confirm(
    services: PaymentServices,
    *,
    user_id: str,
    challenge_id: str,
    pin: str,
    actor: Actor,
    request_key: str | None,
) -> PaymentView:
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
        await conn.execute(
            update(code_charges)
            .where(code_charges.c.id == challenge_id)
            .values(payment_id=payment_id)
        )
        return view

    return await run_unit(services.engine, work)
