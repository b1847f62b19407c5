"""A merchant charges a scanned payment code.

``POST /v1/merchant/charges`` (:func:`charge`) checks, in this order, each with its code:

1. the merchant takes wallet payments (``merchant_not_supported``); an ``out_trade_no``
   this merchant already charged answers that charge again (same amount and subject),
   or ``out_trade_no_conflict``;
2. the merchant key (and terminal, if named) has not spent its budget of unknown codes
   (``too_many_attempts``, :mod:`.guessing`); the code is ours, made with the user's
   secret in this step or the one before, and not yet used (``payment_code_invalid``,
   which spends one failure of that budget);
3. the account is not frozen (``account_frozen``); a code made before a freeze/unfreeze
   is ``payment_code_invalid`` (its secret was retired);
4. the limits (``limit_exceeded``) counted as a payment-code spend without the PIN;
5. the balance (``insufficient_balance``, unless a card pays the rest: below).

A charge is an order plus, once paid, a payment: :func:`~ewallet.payments.service.settle_order`
moves the money exactly as ``POST /v1/payments`` does (through the spend seam), and the
merchant follows it like any order (``GET /v1/merchant/orders/{id}``, ``order.paid``).

When step 4 fails only on a limit the PIN would lift (the no-PIN daily total, payment-code
total or count), the charge is kept *pending* instead: its order (awaiting payment for
:data:`CONFIRM_SECONDS`) and its ``payment_code_charges`` row (which uses the code up) are
committed, the user is notified, and the merchant gets ``401 step_up_required`` with
``challenge_id`` (the charge id) and ``order_id``. The user confirms with
``POST /v1/me/payment-code/confirmations/{challenge_id}`` and the PIN
(:func:`~.confirmations.confirm`); that unit claims the pending row (exactly once) and
settles the order with ``AuthStrength.PIN``. The payment keeps the confirmation's request key
(:mod:`ewallet.kit.request_key`), so a rerun of a confirmation that paid (its answer lost in
a crash) answers that payment, not ``order_not_payable``.

A risk ``challenge`` on the charge (``SpendChallengedError`` of :mod:`ewallet.spend.service`:
the cashier's terminal cannot prove a step-up for the payer) goes the same pending way: the
merchant gets the same ``401 step_up_required`` and the payer confirms on their own phone
with the PIN, which counts as the step-up (docs/payment-code.md, "Risk challenges"); the
challenged decision is stored either way.

A charge a bound card would fund (:mod:`.funding`: the source ``card``, or
``balance_first`` with a card and a short balance) goes the same pending way, since a card
is never debited without the payment password; the confirmation pays it through the
card-funding path of orders.

Any other refusal leaves nothing behind, the code included: it was not used, so the
cashier may scan it again (within its minute) once the reason is gone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.errors import StepUpRequiredError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger.errors import InsufficientBalanceError
from ewallet.merchants.service import require_key_in_force
from ewallet.merchants.views import MerchantPrincipal, MerchantView
from ewallet.models.identity import User
from ewallet.models.payment_codes import ChargeStatus, CodeFundingSource
from ewallet.models.payments import OrderStatus
from ewallet.notify.service import notify_user
from ewallet.payments import repository as shared
from ewallet.payments.errors import (
    OutTradeNoConflictError,
    require_wallet_currency,
)
from ewallet.payments.password_free.service import needs_pin
from ewallet.payments.payment_codes import repository
from ewallet.payments.payment_codes.codec import (
    candidates,
    time_step,
)
from ewallet.payments.payment_codes.errors import PaymentCodeInvalidError
from ewallet.payments.payment_codes.guard import (
    GuessPolicy,
    check_budgets,
    subjects_of,
)
from ewallet.payments.payment_codes.repository import ChargeRow
from ewallet.payments.payment_codes.sealing import UserSecret, opened
from ewallet.payments.payment_codes.service import funding, guessing
from ewallet.payments.payment_codes.views import ChargeView
from ewallet.payments.service import (
    check_merchant,
    known_payment_accounts,
    payment_accounts,
    settle_order,
)
from ewallet.payments.views import OrderView
from ewallet.risk.spending import AuthStrength, LimitExceededError, SpendChannel
from ewallet.services import Services
from ewallet.spend.service import SpendChallengedError

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


def step_up(view: ChargeView) -> StepUpRequiredError:
    """The merchant's answer while the user has not confirmed a charge: wait for them."""
    return StepUpRequiredError(
        "the customer must confirm this charge with the payment password",
        challenge_id=view.id,
        methods=["payment_password"],
        order_id=view.order.id,
        expires_at=view.expires_at.isoformat(),
    )


class _CardFundsError(Exception):
    """The user's source is a card: the charge waits for the PIN (raised to roll back)."""


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


@dataclass(frozen=True, slots=True)
class UnknownCode:
    """A look-up that found no valid code; counted against the budgets, then raised."""

    error: PaymentCodeInvalidError


async def charge_view(conn: AsyncConnection, row: ChargeRow, *, now: datetime) -> ChargeView:
    order = await shared.order_view(conn, row.order_id, now=now)
    assert order is not None
    status, payment_id, auth = row.status, row.payment_id, row.auth
    if status == ChargeStatus.PENDING and order.status == OrderStatus.PAID:
        # A card-funded confirmation the settle job finished: the order says it is paid.
        status, payment_id, auth = ChargeStatus.SUCCEEDED, order.payment_id, "pin"
    elif status == ChargeStatus.PENDING and row.expires_at <= now:
        status = ChargeStatus.EXPIRED
    return ChargeView(row.id, status, order, payment_id, auth, row.expires_at)


async def _verified(
    conn: AsyncConnection, services: Services, code: str, *, now: datetime
) -> CodeUse:
    """Find the code's user by its lookup part and check its one-time value (step 2)."""
    readings = candidates(code, now=now, blinding=services.security.digest)
    for candidate in readings:
        found = await repository.secret_by_lookup(conn, candidate.lookup_id)
        if found is None:
            continue
        secret = opened(services.security.cipher, found)
        if candidate.matches(secret.secret):
            return CodeUse(secret, candidate.step, candidate.counter, readings[0].step)
    raise PaymentCodeInvalidError("this payment code is not valid")


async def _claim_state(conn: AsyncConnection, use: CodeUse) -> repository.ClaimState:
    return await repository.claim_state(
        conn,
        user_id=use.secret.user_id,
        lookup_id=use.secret.lookup_id,
        step=use.step,
        counter=use.counter,
    )


async def _claim_code(
    uow: UnitOfWork, services: Services, code: str, *, seen: CodeUse, now: datetime
) -> tuple[User, CodeUse, str | None]:
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
    return user, use, state.funding


async def _look_up(
    services: Services, *, merchant_id: str, request: ChargeRequest
) -> ChargeView | CodeUse:
    """Steps 1-2: the merchant's earlier charge with this ``out_trade_no`` if there is one,
    else the verified code, whose user it is (one unit for both). The code is looked up
    under the guessing budgets' row locks, and a failure is counted before the unit
    commits (:mod:`.guessing`)."""
    clock = services.clock
    policy = GuessPolicy.from_settings(services.settings)
    subjects = subjects_of(merchant_id, request.terminal_id)

    async def work(uow: UnitOfWork) -> ChargeView | CodeUse | UnknownCode:
        conn = await uow.connection()
        now = clock.now()
        found = await shared.merchant_and_order_number(
            conn, merchant_id=merchant_id, out_trade_no=request.out_trade_no
        )
        check_merchant(None if found is None else found.merchant)
        assert found is not None
        if found.order_id is None:
            states = await guessing.hold_budgets(
                uow, merchant_id=merchant_id, subjects=subjects, now=now, policy=policy
            )
            try:
                return await _verified(conn, services, request.payment_code, now=now)
            except PaymentCodeInvalidError as unknown:
                await guessing.count_failure(
                    uow,
                    clock=clock,
                    merchant_id=merchant_id,
                    subjects=subjects,
                    states=states,
                    now=now,
                    policy=policy,
                )
                return UnknownCode(unknown)
        row = await repository.charge_of_order(conn, found.order_id)
        if row is None or found.order_request_hash != request.digest():
            raise OutTradeNoConflictError(
                "this out_trade_no was already used for an order with other content"
            )
        return await charge_view(conn, row, now=now)

    looked_up = await run_unit(services.engine, work)
    if isinstance(looked_up, UnknownCode):
        raise looked_up.error
    return looked_up


async def _insert_order(
    conn: AsyncConnection,
    *,
    merchant: MerchantView,
    request: ChargeRequest,
    now: datetime,
    paid_by: str | None = None,
) -> OrderView:
    """Write the charge's order (with ``paid_by``, already paid by that payment, which
    this unit makes); return its view as a read back would show it, awaiting payment --
    :func:`~ewallet.payments.service.settle_order` returns it paid."""
    order = OrderView(
        id=new_id("ord"),
        merchant_id=merchant.id,
        merchant_name=merchant.name,
        out_trade_no=request.out_trade_no,
        amount=request.amount,
        subject=request.subject,
        notify_url=None,
        status=OrderStatus.AWAITING_PAYMENT,
        payment_id=None,
        refunded=Money(0, request.amount.currency),
        expires_at=now + timedelta(seconds=CONFIRM_SECONDS),
        paid_at=None,
        closed_at=None,
        created_at=now,
    )
    await shared.insert_order(
        conn,
        order_id=order.id,
        merchant_id=order.merchant_id,
        out_trade_no=order.out_trade_no,
        amount=order.amount,
        subject=order.subject,
        notify_url=order.notify_url,
        request_hash=request.digest(),
        expires_at=order.expires_at,
        now=now,
        paid_by=paid_by,
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
    row = ChargeRow(
        id=new_id("pcc"),
        order_id=order.id,
        merchant_id=order.merchant_id,
        status=ChargeStatus.PENDING if payment_id is None else ChargeStatus.SUCCEEDED,
        auth=None if payment_id is None else AuthStrength.NONE.value,
        payment_id=payment_id,
        expires_at=now + timedelta(seconds=CONFIRM_SECONDS),
    )
    await repository.insert_charge(
        conn,
        charge=row,
        user_id=use.secret.user_id,
        step=use.step,
        counter=use.counter,
        amount_minor=order.amount.minor,
        currency=order.amount.currency,
        now=now,
    )
    return ChargeView(row.id, row.status, order, payment_id, row.auth, row.expires_at)


async def charge(
    services: Services,
    merchant: MerchantPrincipal,
    *,
    request: ChargeRequest,
    request_key: RequestKey | None = None,
) -> tuple[ChargeView, bool]:
    """The charge for ``request`` and whether this call made it; see the module doc.

    Raises ``step_up_required`` (after committing the pending charge) when the user must
    confirm it, also when the same ``out_trade_no`` is sent again while it is pending.
    An amount in a currency wallets do not hold is ``currency_not_supported``, first.

    The common charge -- a valid code, no PIN needed, the balance enough -- is made in one
    unit of work (:func:`_charge_at_once`), which also checks the merchant's key
    (``merchant.in_force`` False: ``require_key_in_force``) and records the request's
    answer with its Idempotency-Key (``request_key``). Anything else rolls that unit back
    and takes the steps of the module doc, each in its own unit.
    """
    require_wallet_currency(request.amount.currency)
    try:
        return await _charge_at_once(services, merchant, request, request_key), True
    except _NotAtOnce:
        pass
    except IntegrityError:
        pass  # a concurrent charge took the same out_trade_no or code: the steps answer
    merchant_id = await _confirmed_merchant(services, merchant)
    try:
        return await _charge_once(services, merchant_id=merchant_id, request=request)
    except IntegrityError:
        # A concurrent charge took the same out_trade_no or code: answer as its repeat.
        return await _charge_once(services, merchant_id=merchant_id, request=request)


class _NotAtOnce(Exception):  # noqa: N818 (control flow, not an error)
    """The charge is not one :func:`_charge_at_once` makes (a repeat, an unknown code, a
    subject's first look-up, an account not open yet, or one needing the payer): rolled
    back, the module doc's steps answer it."""


async def _confirmed_merchant(services: Services, merchant: MerchantPrincipal) -> str:
    """The merchant's id once its key is known to be in force (its own unit, if needed)."""
    if merchant.in_force:
        return merchant.merchant_id

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        found = await shared.merchant_and_order_number(
            conn, merchant_id=merchant.merchant_id, out_trade_no="", key_id=merchant.key_id
        )
        await require_key_in_force(
            uow, services.clock, merchant, None if found is None else found.key
        )

    await run_unit(services.engine, work)
    return merchant.merchant_id


async def _charge_at_once(
    services: Services,
    merchant: MerchantPrincipal,
    request: ChargeRequest,
    request_key: RequestKey | None,
) -> ChargeView:
    """Steps 1-5 and the payment in one unit of work: the merchant, its key's standing and
    the ``out_trade_no`` (one read), the guessing budgets (read, not locked: a code that
    does not verify is counted under their locks by the steps of the module doc, which
    refuse once a budget is spent), the code, the payer, the order, the payment, the
    charge, and the request's Idempotency-Key record with its answer."""
    merchant_id = merchant.merchant_id
    clock = services.clock
    policy = GuessPolicy.from_settings(services.settings)
    subjects = subjects_of(merchant_id, request.terminal_id)

    async def work(uow: UnitOfWork) -> ChargeView:
        conn = await uow.connection()
        now = clock.now()
        found = await shared.merchant_and_order_number(
            conn, merchant_id=merchant_id, out_trade_no=request.out_trade_no, key_id=merchant.key_id
        )
        await require_key_in_force(uow, clock, merchant, None if found is None else found.key)
        check_merchant(None if found is None else found.merchant)
        assert found is not None
        if found.order_id is not None:
            raise _NotAtOnce  # a repeat of an earlier charge
        states = await repository.guard_states(conn, [subject.key for subject in subjects])
        if len(states) < len(subjects):
            raise _NotAtOnce  # a subject's first look-up makes its rows
        check_budgets(states, now, policy)
        try:
            seen = await _verified(conn, services, request.payment_code, now=now)
        except PaymentCodeInvalidError:
            raise _NotAtOnce from None  # counted against the budgets by the steps
        user_id = seen.secret.user_id
        user, use, source = await _claim_code(
            uow, services, request.payment_code, seen=seen, now=now
        )
        if source == CodeFundingSource.CARD:
            raise _NotAtOnce  # a card pays: the payer confirms with the PIN
        currency = request.amount.currency
        accounts = await known_payment_accounts(
            services, conn, user_id=user_id, merchant_id=merchant_id, currency=currency
        )
        if accounts is None:
            raise _NotAtOnce  # the steps open the accounts first
        payment_id = new_id("pay")
        order = await _insert_order(
            conn, merchant=found.merchant, request=request, now=now, paid_by=payment_id
        )
        settled = await settle_order(
            uow,
            services,
            order=order,
            user_id=user_id,
            payment_id=payment_id,
            accounts=accounts,
            channel=SpendChannel.PAYMENT_CODE,
            auth=AuthStrength.NONE,
            merchant=found.merchant,
            payer=user,
            written_paid=True,
        )
        view = await _insert_charge(
            conn, order=settled.order, use=use, now=now, payment_id=payment_id
        )
        if request_key is not None:
            await request_key.record_answer(uow, (view, True))
        return view

    try:
        return await run_unit(services.engine, work)
    except (LimitExceededError, SpendChallengedError, InsufficientBalanceError):
        raise _NotAtOnce from None  # the steps decide: a pending charge, or the refusal


async def _charge_once(
    services: Services, *, merchant_id: str, request: ChargeRequest
) -> tuple[ChargeView, bool]:
    found = await _look_up(services, merchant_id=merchant_id, request=request)
    if isinstance(found, ChargeView):
        if found.status == ChargeStatus.PENDING:
            raise step_up(found)
        return found, False
    seen = found
    user_id = seen.secret.user_id
    accounts = await payment_accounts(
        services, user_id=user_id, merchant_id=merchant_id, currency=request.amount.currency
    )
    clock = services.clock

    card_source = [True]  # a card source is honoured until it turns out to have no card

    async def claimed(
        uow: UnitOfWork, now: datetime
    ) -> tuple[User, CodeUse, MerchantView | None, OrderView, str | None]:
        """Claim the code and write the order. The merchant's row is read in this unit for
        the order's view, and settle_order re-checks it (disabled since the look-up?)."""
        user, use, source = await _claim_code(
            uow, services, request.payment_code, seen=seen, now=now
        )
        conn = await uow.connection()
        merchant = await shared.merchant_view(conn, merchant_id)
        assert merchant is not None  # merchants are never deleted
        order = await _insert_order(conn, merchant=merchant, request=request, now=now)
        return user, use, merchant, order, source

    async def without_pin(uow: UnitOfWork) -> ChargeView:
        now = clock.now()
        user, use, merchant, order, source = await claimed(uow, now)
        if source == CodeFundingSource.CARD and card_source[0]:
            raise _CardFundsError  # rolls the unit back: the card path waits for the PIN
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
        user, use, _, order, _ = await claimed(uow, now)
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
        try:
            return await run_unit(services.engine, without_pin), True
        except _CardFundsError:
            if (await funding.get_funding(services, user_id)).card is not None:
                raise step_up(await run_unit(services.engine, pending)) from None
            card_source[0] = False  # the chosen card is gone: the balance, as by default
            return await run_unit(services.engine, without_pin), True
    except LimitExceededError as refused:
        if not needs_pin(refused):
            raise
    except SpendChallengedError:
        pass  # risk asks for a second factor: the payer's PIN on their phone (module doc)
    except InsufficientBalanceError:
        if (await funding.get_funding(services, user_id)).card is None:
            raise
        # balance_first with a card: the card pays the rest once the payer confirms
    raise step_up(await run_unit(services.engine, pending))
