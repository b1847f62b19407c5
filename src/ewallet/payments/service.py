"""Paying a merchant order from the wallet (``POST /v1/payments``, the checkout page).

Refusals come in this order, each with its API.md code, and none leaves anything behind:

1. the merchant takes wallet payments (``merchant_not_supported``): active and accepting;
2. the order is payable (``order_not_payable``): not paid, refunded, closed or expired;
3. the account is not frozen (``account_frozen``), then the payment password
   (``payment_password_not_set`` / ``_locked`` / ``_invalid``) -- both by
   :func:`~ewallet.identity.payment_password.service.payment_password_held`: steps 1-2 read
   in the unit that reserves the PIN's attempt slot, argon2 outside any transaction (it must
   not hold locks), a correct PIN's slot freed in the money unit; a payment sent without
   the PIN is checked against the user's password-free setting instead
   (:mod:`ewallet.payments.password_free.service`, ``step_up_required``);
4. the limits (``limit_exceeded``) and the risk decision, by the spend seam
   (:func:`~ewallet.spend.service.admit_spend`): a ``challenge`` the request brings no
   passed step-up for (``challenge_id``) answers ``step_up_required`` with a fresh
   challenge (:func:`~ewallet.spend.service.run_spend_unit`), to prove with
   ``POST /v1/me/step-up`` and send again with its ``challenge_id``;
5. the balance (``insufficient_balance``, the ledger refuses to overdraw the wallet).

Steps 1-2 are read first so a bad order costs no PIN attempt; the money unit then claims
the order with a conditional ``UPDATE ... WHERE status = 'awaiting_payment' AND
expires_at > now``: of two payers racing for one order exactly one gets the row, the other
sees ``order_not_payable``. The same unit admits the spend, posts the ledger entry (wallet
-> merchant for the amount less the merchant's fee and wallet -> fee revenue for the fee,
one transaction of kind ``payment``, key ``payment:<id>``; payments/fees.py), writes the
payment with its fee, the payer's
notice and the merchant's webhook -- all of it commits, or none of it does. That unit's
body is :func:`settle_order`, which payment-code charges reuse with their own channel.
When risk control answers ``review``, an order or static-QR payment waits for a risk
officer instead (:mod:`ewallet.payments.held.service`, docs/risk-review.md): the amount on
a hold, the order ``under_review``, no payment row until approved; a payment-code charge
refuses it (``under_review``).

The payment keeps the request key of the request that paid (:mod:`ewallet.kit.request_key`,
unique per payer), written in that unit. A rerun of the request -- after a crash between the
commit and the stored answer, say -- finds the payment (:func:`payment_for_request`) before
any of the checks above and answers it, instead of ``order_not_payable`` for an order it
paid itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.identity.guards import locked_user
from ewallet.identity.payment_password.service import HeldPin, payment_password_held
from ewallet.identity.runtime import Caller
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import chart
from ewallet.merchants.views import MerchantView
from ewallet.models.identity import User
from ewallet.models.payments import OrderStatus, PaymentStatus
from ewallet.notify.service import notify_user
from ewallet.payments import repository
from ewallet.payments.entry import PaymentAccounts, payment_entry
from ewallet.payments.errors import (
    MerchantNotSupportedError,
    OrderNotPayableError,
    require_wallet_currency,
)
from ewallet.payments.fees import FeeTerms, payment_fee
from ewallet.payments.held import repository as held_repository
from ewallet.payments.held.service import hold_payment
from ewallet.payments.password_free import service as password_free
from ewallet.payments.schemas import order_document
from ewallet.payments.views import OrderView, PayerOrder, PaymentView
from ewallet.payments.webhooks.service import queue_order_event
from ewallet.risk.spending import AuthStrength, LimitExceededError, SpendChannel, SpendingPolicy
from ewallet.services import Services
from ewallet.spend.service import (
    ReviewTerms,
    SpendRequest,
    admit_spend,
    book_spend,
    expect_spent,
    run_spend_unit,
)

# The channels whose payment waits for a risk officer when risk answers ``review``; a
# payment-code charge refuses instead (``under_review``): a cashier cannot wait hours.
HELD_CHANNELS: Final = frozenset({SpendChannel.PAYMENT, SpendChannel.STATIC_QR})


def check_merchant(merchant: MerchantView | None) -> None:
    """Step 1: ``merchant_not_supported`` unless the merchant is active and accepting."""
    if merchant is None or not merchant.takes_wallet_payments:
        raise MerchantNotSupportedError("this merchant does not take wallet payments")


def _check_payable(order: OrderView) -> None:
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise OrderNotPayableError(f"the order is {order.status}", order_status=order.status)
    # Orders in another currency are refused at creation; one made before that rule is
    # answered as what it is, not as a shortfall of the payer's CNY balance.
    require_wallet_currency(order.amount.currency)


async def check_payable(services: Services, order_id: str) -> OrderView:
    """Steps 1 and 2, reading only: the order, if its merchant and state allow paying it
    (``not_found`` for no such order)."""
    return await run_unit(
        services.engine,
        lambda uow: _payable_order(uow, order_id, now=services.clock.now()),
        read_only=True,
    )


async def _payable_order(uow: UnitOfWork, order_id: str, *, now: datetime) -> OrderView:
    conn = await uow.connection()
    order = await repository.order_view(conn, order_id, now=now)
    if order is None:
        raise NotFoundError("no such order")
    check_merchant(await repository.merchant_view(conn, order.merchant_id))
    _check_payable(order)
    return order


async def payment_accounts(
    services: Services, *, user_id: str, merchant_id: str, currency: str
) -> PaymentAccounts:
    """Open (or find) them before the money unit: opening commits on its own."""
    ledger = services.ledger
    wallet = await chart.account_id(ledger, chart.wallet(user_id, currency))
    merchant = await chart.account_id(ledger, chart.merchant(merchant_id, currency))
    revenue = await chart.account_id(ledger, chart.fee_revenue(currency))
    return PaymentAccounts(wallet, merchant, revenue)


async def known_payment_accounts(
    services: Services, conn: AsyncConnection, *, user_id: str, merchant_id: str, currency: str
) -> PaymentAccounts | None:
    """:func:`payment_accounts` inside a unit of work: read in its transaction where this
    process has not cached them, never opened (None when one is not open yet)."""
    ledger = services.ledger
    wallet = await chart.known_account_id(ledger, conn, chart.wallet(user_id, currency))
    merchant = await chart.known_account_id(ledger, conn, chart.merchant(merchant_id, currency))
    revenue = await chart.known_account_id(ledger, conn, chart.fee_revenue(currency))
    if wallet is None or merchant is None or revenue is None:
        return None
    return PaymentAccounts(wallet, merchant, revenue)


def fee_terms(settings: Settings, merchant: MerchantView) -> FeeTerms:
    """The merchant's own fee terms where staff set them, the configured defaults else."""
    return FeeTerms.of(
        rate_bp=merchant.fee_rate_bp,
        minimum=merchant.fee_minimum,
        default_rate_bp=settings.merchant_fee_rate_bp,
        default_minimum=settings.merchant_fee_minimum_minor,
    )


@dataclass(frozen=True, slots=True)
class Stepped:
    """Who pays, for risk's step-up: the caller a challenge is sent to (SMS in their
    language), their session's device and the step-up they bring (``challenge_id``)."""

    caller: Caller | None  # None: no request (a job, a test)
    device_id: str | None = None
    challenge_id: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """What :func:`settle_order` wrote, as the views a re-read would give."""

    payment: PaymentView  # ``under_review`` for one held for a risk review
    order: OrderView  # the order as paid (or ``under_review``)


async def settle_order(
    uow: UnitOfWork,
    services: Services,
    *,
    order: OrderView,
    user_id: str,
    payment_id: str,
    accounts: PaymentAccounts,
    channel: SpendChannel,
    auth: AuthStrength,
    merchant: MerchantView | None = None,
    payer: User | None = None,
    request_key: str | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
    confirmed_by: str | None = None,
    spend_counted: bool = False,
    written_paid: bool = False,
) -> Settlement:
    """Pay ``order`` from ``user_id``'s wallet inside the caller's unit (module doc, 4-5).

    The one place money moves from a wallet to a merchant for an order: ``POST
    /v1/payments`` and payment-code charges both come here, differing only in the spend's
    ``channel`` and ``auth``. Re-checks the merchant (``merchant_not_supported``: disabled
    since the first read), claims the order (``order_not_payable``), admits the spend
    through the seam (``account_frozen``, ``limit_exceeded``, ``risk_declined``, a
    challenge), writes the merchant's webhook and the payer's notice, books the ledger
    entry (``insufficient_balance``) and writes the payment. Raises on any refusal, and the
    caller's unit then rolls all of it back. A ``review`` holds the payment for a risk
    officer on the channels of :data:`HELD_CHANNELS`
    (:func:`~ewallet.payments.held.service.hold_payment`: the amount on a hold, no
    payment row, the order ``under_review``; the settlement's payment says
    ``under_review``); a payment-code charge refuses it (``under_review``, nothing held).
    ``request_key`` (a :class:`RequestKey`'s digest) is stored on the payment.
    ``device_id`` (the payer's session's device), ``challenge_id`` (a step-up the payer
    passed for this payment) and ``confirmed_by`` (a second factor the payment already
    passed, :func:`~ewallet.spend.service.admit_spend`) are the risk decision's.

    A caller that already read the merchant in this unit passes it as ``merchant``, and one
    that locked the payer's row (``locked_user``) in this unit as ``payer``: each saves a
    statement. The views returned are built from what was written, not re-read.
    ``spend_counted``: the spend ``payment:<payment_id>`` was admitted and counted in an
    earlier unit (a card-funded payment, before its bank was asked): not counted again.
    ``written_paid``: the caller wrote ``order`` in this unit already paid by
    ``payment_id`` (``insert_order(paid_by=...)``, a charge's own order): nobody else can
    have claimed it, so it is not claimed again.

    Locks follow the global order (docs/architecture.md "Lock order"): the payer's row,
    then the order (the claim), then the ledger's accounts.
    """
    clock = services.clock
    conn = await uow.connection()
    now = clock.now()
    amount = order.amount
    if merchant is None:
        merchant = await repository.merchant_view(conn, order.merchant_id)
    check_merchant(merchant)  # a merchant disabled since the first read
    assert merchant is not None
    if payer is None:
        payer = await locked_user(uow, user_id)
    if not written_paid and not await repository.claim_order(
        conn, order_id=order.id, payment_id=payment_id, now=now
    ):
        current = await repository.order_view(conn, order.id, now=now)
        assert current is not None
        raise OrderNotPayableError(f"the order is {current.status}", order_status=current.status)
    reference = f"payment:{payment_id}"
    admission = await admit_spend(
        uow,
        SpendRequest(
            user_id=user_id,
            amount=amount,
            channel=channel,
            auth=auth,
            reference=reference,
            counterparty=order.merchant_id,
            device_id=device_id,
            challenge_id=challenge_id,
        ),
        now=now,
        policy=SpendingPolicy.from_settings(services.settings),
        locked=payer,
        confirmed_by=confirmed_by,
        # payment_id is drawn for this payment (a retry rolled back), unless counted before
        new_reference=not spend_counted,
        wallet_account_id=accounts.wallet,
        keeps_held=channel in HELD_CHANNELS,
    )
    # The webhook and the notice are written before the ledger entry: posting locks the
    # merchant's account row (hot: every payment to the merchant touches it) until
    # commit, so the fewer statements after it, the more payments it takes per second.
    # A refusal there (insufficient_balance) still rolls all of them back.
    # The order as the claim left it: only those columns change while it awaits payment,
    # and no payment (so nothing refunded) existed before this one.
    fee = payment_fee(amount.minor, fee_terms(services.settings, merchant))
    if not admission.allowed:  # risk asked for a review (a block or challenge raised)
        sla = timedelta(minutes=services.settings.risk_review_sla_minutes)
        payment, waiting = await hold_payment(
            uow,
            clock,
            admission,
            order=order,
            merchant=merchant,
            payer=payer,
            accounts=accounts,
            fee=fee,
            request_key=request_key,
            review=ReviewTerms(payment_id, sla),
        )
        return Settlement(payment, waiting)
    paid = replace(
        order,
        merchant_name=merchant.name,
        status=OrderStatus.PAID,
        payment_id=payment_id,
        refunded=Money(0, amount.currency),
        paid_at=now,
        fee=Money(fee, amount.currency),
    )
    # Where the order's events go, without reading the merchant's row again.
    url = paid.notify_url if paid.notify_url is not None else merchant.webhook_url
    await queue_order_event(
        uow,
        clock=clock,
        merchant_id=order.merchant_id,
        order_id=order.id,
        url=url,
        event_type="order.paid",
        data={"order": order_document(paid), "payment_id": payment_id},
    )
    await notify_user(
        uow.session,
        clock=clock,
        user=payer,
        kind="payment_succeeded",
        params={
            "amount": amount.to_decimal_string(),
            "currency": amount.currency,
            "merchant": paid.merchant_name,
        },
        sms=False,
        security=False,
    )
    entry = payment_entry(
        key=reference,
        accounts=accounts,
        amount=amount,
        fee=fee,
        metadata={"payment_id": payment_id, "order_id": order.id, "merchant_id": order.merchant_id},
    )
    posted = expect_spent(await book_spend(uow, admission, entry, clock=clock))
    await repository.insert_payment(
        conn,
        payment_id=payment_id,
        order=order,
        user_id=user_id,
        ledger_transaction_id=posted.id,
        request_key=request_key,
        now=now,
        fee=fee,
    )
    payment = PaymentView(
        id=payment_id,
        order_id=order.id,
        merchant_id=order.merchant_id,
        merchant_name=merchant.name,
        subject=order.subject,
        user_id=user_id,
        amount=amount,
        refunded=Money(0, amount.currency),
        status=PaymentStatus.SUCCEEDED,
        ledger_transaction_id=posted.id,
        created_at=now,
        fee=Money(fee, amount.currency),
    )
    return Settlement(payment, paid)


async def pay_order(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    order_id: str,
    pin: str | None,
    caller: Caller | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
    request_key: RequestKey | None = None,
) -> PaymentView:
    """Pay ``order_id`` from ``user_id``'s wallet; raise the first refusal (module doc).

    Without ``pin`` this is a password-free payment: step 3 checks the user's opt-in and
    cap instead of the PIN, and the spend counts as unauthenticated; ``step_up_required``
    asks the client to send the PIN instead (also when the no-PIN daily limits refuse it).

    With ``request_key``, a rerun of the request that already paid answers that payment
    (before any check: the PIN is not asked again), also when the rerun races its first
    run and loses the order (``order_not_payable``) or the unique request key.

    ``caller`` is asked for a step-up when risk challenges the payment (``step_up_required``,
    module doc); ``challenge_id`` is the one it passed, ``device_id`` its session's device.
    """
    return await once_per_request(
        services,
        user_id=user_id,
        request_key=request_key,
        pay=lambda _digest: _pay_order(
            services,
            actor,
            user_id=user_id,
            order_id=order_id,
            pin=pin,
            request_key=request_key,
            stepped=Stepped(caller, device_id, challenge_id),
        ),
    )


async def once_per_request(
    services: Services,
    *,
    user_id: str,
    request_key: RequestKey | None,
    pay: Callable[[str | None], Awaitable[PaymentView]],
) -> PaymentView:
    """Pay at most once per request: the payment an earlier run of it made, else ``pay``
    (given the key's digest to store on the payment row). A run that loses the order
    (``order_not_payable``) or the unique request key to an earlier run of the same
    request answers that run's payment."""
    earlier = await payment_for_request(services, user_id=user_id, request_key=request_key)
    if earlier is not None:
        return earlier
    try:
        payment = await pay(None if request_key is None else request_key.digest)
    except (OrderNotPayableError, IntegrityError):
        earlier = await payment_for_request(services, user_id=user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # the money moved: the key stays with this request
    return payment


async def payment_for_request(
    services: Services, *, user_id: str, request_key: RequestKey | None
) -> PaymentView | None:
    """The payment an earlier run of the same request made, if any (reads only): also one
    held for a risk review (``under_review``, or ``rejected``)."""
    if request_key is None:
        return None
    digest = request_key.digest

    async def work(uow: UnitOfWork) -> PaymentView | None:
        conn = await uow.connection()
        found = await repository.payment_id_for_request(conn, user_id=user_id, request_key=digest)
        if found is None:
            return await held_repository.held_view(conn, user_id=user_id, request_key=digest)
        return await repository.payment_view(conn, found, user_id=user_id)

    found = await run_unit(services.engine, work, read_only=True)
    if found is not None:
        request_key.effect_possible()  # its effect happened: the key stays with this request
    return found


async def _pay_order(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    order_id: str,
    pin: str | None,
    request_key: RequestKey | None,
    stepped: Stepped,
) -> PaymentView:
    if pin is None:
        order = await check_payable(services, order_id)
        await password_free.check_eligible(services, user_id=user_id, amount=order.amount)
        return await _pay(
            services, order, None, user_id=user_id, request_key=request_key, stepped=stepped
        )
    # Steps 1 and 2 read in the unit that reserves the PIN's attempt slot; the money unit
    # frees a correct PIN's slot (identity's payment_password_held).
    async with payment_password_held(
        services,
        user_id=user_id,
        pin=pin,
        actor=actor,
        first=lambda uow: _payable_order(uow, order_id, now=services.clock.now()),
    ) as held:
        return await _pay(
            services, held.found, held, user_id=user_id, request_key=request_key, stepped=stepped
        )


async def _pay(
    services: Services,
    order: OrderView,
    held: HeldPin[OrderView] | None,
    *,
    user_id: str,
    request_key: RequestKey | None,
    stepped: Stepped,
) -> PaymentView:
    """Step 4 on: the money unit (``held``: the PIN checked; None: a password-free payment),
    which writes the key's record with its answer where the endpoint claims it there."""
    auth = AuthStrength.NONE if held is None else AuthStrength.PIN
    accounts = await payment_accounts(
        services, user_id=user_id, merchant_id=order.merchant_id, currency=order.amount.currency
    )
    payment_id = new_id("pay")

    async def work(uow: UnitOfWork) -> PaymentView:
        payer = await locked_user(uow, user_id)
        if held is not None:
            await held.settle_in(uow, payer=payer)
        settled = await settle_order(
            uow,
            services,
            order=order,
            user_id=user_id,
            payment_id=payment_id,
            accounts=accounts,
            channel=SpendChannel.PAYMENT,
            auth=auth,
            payer=payer,
            request_key=None if request_key is None else request_key.digest,
            device_id=stepped.device_id,
            challenge_id=stepped.challenge_id,
        )
        if request_key is not None:
            await request_key.record_answer(uow, settled.payment)
        return settled.payment

    try:
        return await run_spend_unit(services, work, caller=stepped.caller)
    except LimitExceededError as refused:
        if auth is AuthStrength.NONE and password_free.needs_pin(refused):
            raise password_free.step_up("daily_limit") from refused
        raise


async def get_payment(services: Services, user_id: str, *, payment_id: str) -> PaymentView:
    """One of the payer's own payments -- also one held for a risk review (``under_review``,
    then ``rejected``, or the payment once approved); anyone else's is ``not_found``."""

    async def work(uow: UnitOfWork) -> PaymentView | None:
        conn = await uow.connection()
        found = await repository.payment_view(conn, payment_id, user_id=user_id)
        if found is None:
            return await held_repository.held_view(conn, payment_id=payment_id, user_id=user_id)
        return found

    view = await run_unit(services.engine, work, read_only=True)
    if view is None:
        raise NotFoundError("no such payment")
    return view


async def order_for_payer(services: Services, user_id: str, *, order_id: str) -> PayerOrder:
    """The order a checkout link names, as ``user_id`` sees it before paying (reads only).

    Any order can be shown to whoever has its link (as the hosted checkout page does);
    ``not_found`` for no such order. Besides the order: the viewer's own payment of it, if
    they paid it (or their payment of it waiting for a risk review), and the refusal of
    steps 1-2 (module doc) paying it would meet now --
    ``merchant_not_supported``, ``order_not_payable``, ``currency_not_supported`` -- so a
    page can say why before asking for a payment password. :func:`pay_order` checks all of
    it again when the payment is made."""

    async def work(uow: UnitOfWork) -> PayerOrder:
        conn = await uow.connection()
        order = await repository.order_view(conn, order_id, now=services.clock.now())
        if order is None:
            raise NotFoundError("no such order")
        paid = await repository.payment_id_of_order(conn, order_id=order_id, user_id=user_id)
        held = None
        if paid is None and order.status in (OrderStatus.UNDER_REVIEW, OrderStatus.CLOSED):
            held = await held_repository.held_view(conn, user_id=user_id, order_id=order_id)
        refusal: DomainError | None = None
        try:
            check_merchant(await repository.merchant_view(conn, order.merchant_id))
            _check_payable(order)
        except DomainError as refused:
            refusal = refused
        return PayerOrder(order, paid, refusal, held)

    return await run_unit(services.engine, work, read_only=True)


async def payment_of_order(services: Services, user_id: str, *, order_id: str) -> str | None:
    """The id of the payer's payment of ``order_id``, if they paid it (checkout page)."""

    async def work(uow: UnitOfWork) -> str | None:
        conn = await uow.connection()
        return await repository.payment_id_of_order(conn, order_id=order_id, user_id=user_id)

    return await run_unit(services.engine, work, read_only=True)
