"""Static QR codes (收款码): the merchant's side (codes, regenerating, the printed sheet) and
the payer's (``POST /v1/payments/static-qr``, the wallet's ``/pay/qr/<token>``).

**Codes.** The merchant and each of its active stores have one active code, made the first
time the merchant lists its codes (:func:`list_codes`). Regenerating (:func:`regenerate_code`)
retires the code and makes a new one for the same holder in one unit: the old token is
``not_found`` from that commit on. The printed sheet (:func:`printable_code`) names the
merchant and store and holds :func:`~.links.static_qr_url`.

**Paying** (:func:`pay_static_qr`). Refusals come in this order, each with its API.md code,
and none leaves anything behind -- no order row either:

1. the code pays (``not_found``): it exists, is active (not regenerated) and its store is
   active; the merchant takes wallet payments (``merchant_not_supported``);
2. the amount (``invalid_amount`` at the edge; ``validation_error`` for no amount on an
   open-amount code, or another amount than a fixed-amount code's;
   ``currency_not_supported``);
3. the account and the payment password, or without it the password-free setting
   (``account_frozen``, ``payment_password_*``, ``step_up_required``) -- outside any unit;
4. in one unit: the payer's row lock, the code read again (regenerated meanwhile?), the
   order written (``out_trade_no`` drawn here, subject the store's name) and settled by
   :func:`~ewallet.payments.service.settle_order` with channel ``STATIC_QR``: the limits
   (``limit_exceeded``: ``daily_static_qr`` applies whatever the authentication), the
   risk decision (a ``challenge`` without a passed step-up: ``step_up_required`` with a
   fresh ``challenge_id``, as ``POST /v1/payments``), the balance
   (``insufficient_balance``), the payer's notice and the merchant's ``order.paid``
   webhook. A refusal rolls the order back with the rest.

A rerun of a request that paid (same ``request_key``) answers its payment first
(:func:`~ewallet.payments.service.once_per_request`). After the commit the merchant's topic
``merchant.<id>`` is announced (``announce``: the app's wake-up bus; a lost announcement
costs a listener one poll, never money).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

import structlog
from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor, record_event
from ewallet.identity.guards import locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.runtime import Caller
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.kit.money import DEFAULT_CURRENCY, Money
from ewallet.kit.request_key import RequestKey
from ewallet.merchants.stores import service as stores
from ewallet.models.payments import OrderStatus
from ewallet.payments import repository as shared
from ewallet.payments.errors import require_wallet_currency
from ewallet.payments.password_free import service as password_free
from ewallet.payments.service import (
    Stepped,
    check_merchant,
    once_per_request,
    payment_accounts,
    settle_order,
)
from ewallet.payments.static_qr import repository
from ewallet.payments.static_qr.errors import StaticQrAmountError, StaticQrNotFoundError
from ewallet.payments.static_qr.links import looks_like_token, static_qr_url
from ewallet.payments.static_qr.views import (
    STATIC_QR_ORDER_PREFIX,
    PrintableCode,
    StaticQrCodeView,
    StaticQrScreen,
    StaticQrTarget,
)
from ewallet.payments.views import OrderView, PaymentView
from ewallet.risk.spending import AuthStrength, LimitExceededError, SpendChannel, SpendingPolicy
from ewallet.services import Services
from ewallet.spend.service import run_spend_unit

log = structlog.get_logger(__name__)

TOKEN_BYTES: Final = 18  # 24 url-safe characters, 144 random bits
ORDER_SECONDS: Final = 300  # the order is paid in the unit that writes it; a formality
Announce = Callable[[Iterable[str]], Awaitable[None]]


def merchant_topic(merchant_id: str) -> str:
    """The wake-up topic a merchant's live views follow (the portal's sales, the till)."""
    return f"merchant.{merchant_id}"


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


# -- the merchant's side -------------------------------------------------------------------


async def _missing_holders(uow: UnitOfWork, merchant_id: str) -> list[tuple[str | None, str]]:
    """(store id or None for the merchant, store name) of each holder without an active code."""
    conn = await uow.connection()
    codes = await repository.active_codes_of(conn, merchant_id)
    have = {code.store_id for code in codes}
    missing: list[tuple[str | None, str]] = []
    if None not in have:
        missing.append((None, ""))
    for store in await stores.stores_in_unit(uow, merchant_id=merchant_id):
        if store.active and store.id not in have:
            missing.append((store.id, store.name))
    return missing


async def list_codes(services: Services, *, merchant_id: str) -> list[StaticQrCodeView]:
    """The merchant's active codes, its own first; a holder without one gets one now."""
    clock = services.clock

    async def read(uow: UnitOfWork) -> list[StaticQrCodeView] | None:
        if await _missing_holders(uow, merchant_id):
            return None
        return await repository.active_codes_of(await uow.connection(), merchant_id)

    async def make(uow: UnitOfWork) -> list[StaticQrCodeView]:
        conn = await uow.connection()
        now = clock.now()
        for store_id, store_name in await _missing_holders(uow, merchant_id):
            await repository.insert_code(
                conn,
                token=_new_token(),
                merchant_id=merchant_id,
                store_id=store_id,
                store_name=store_name or None,
                fixed_amount=None,
                currency=DEFAULT_CURRENCY,
                now=now,
            )
        return await repository.active_codes_of(conn, merchant_id)

    found = await run_unit(services.engine, read, read_only=True)
    if found is not None:
        return found
    try:
        return await run_unit(services.engine, make)
    except IntegrityError:  # a parallel listing made them first: one active code per holder
        return await run_unit(services.engine, make)


async def regenerate_code(
    services: Services,
    actor: Actor,
    *,
    merchant_id: str,
    token: str,
    fixed_amount: Money | None,
) -> StaticQrCodeView:
    """Retire the merchant's active code ``token`` and make its holder a new one, with
    ``fixed_amount`` (None: the payer types the amount). Another merchant's, a retired or an
    unknown code is ``not_found``. Audited as ``static_qr.regenerated``."""
    if fixed_amount is not None:
        require_wallet_currency(fixed_amount.currency)
    clock = services.clock

    async def work(uow: UnitOfWork) -> StaticQrCodeView:
        conn = await uow.connection()
        now = clock.now()
        found = await repository.code_of(conn, token, merchant_id=merchant_id)
        if found is None or not found.pays:
            raise StaticQrNotFoundError("no such static QR code")
        if not await repository.retire_code(conn, token=token, now=now):
            raise StaticQrNotFoundError("no such static QR code")  # regenerated meanwhile
        old = found.code
        new = await repository.insert_code(
            conn,
            token=_new_token(),
            merchant_id=merchant_id,
            store_id=old.store_id,
            store_name=old.store_name,
            fixed_amount=fixed_amount,
            currency=DEFAULT_CURRENCY if fixed_amount is None else fixed_amount.currency,
            now=now,
        )
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="static_qr.regenerated",
            subject_type="merchant",
            subject_id=merchant_id,
            details={
                "store_id": old.store_id,
                "fixed_amount": None if fixed_amount is None else fixed_amount.to_decimal_string(),
            },
        )
        return new

    return await run_unit(services.engine, work)


async def printable_code(services: Services, *, merchant_id: str, token: str) -> PrintableCode:
    """What the merchant's printed sheet of active code ``token`` shows (else ``not_found``)."""

    async def work(uow: UnitOfWork) -> PrintableCode:
        conn = await uow.connection()
        found = await repository.code_of(conn, token, merchant_id=merchant_id)
        merchant = await shared.merchant_view(conn, merchant_id)
        if found is None or not found.pays or merchant is None:
            raise StaticQrNotFoundError("no such static QR code")
        code = found.code
        return PrintableCode(
            token=code.token,
            url=static_qr_url(services.settings, code.token),
            merchant_name=merchant.name,
            store_name=code.store_name,
            fixed_amount=code.fixed_amount,
        )

    return await run_unit(services.engine, work, read_only=True)


# -- the payer's side ----------------------------------------------------------------------


async def _target_in(uow: UnitOfWork, token: str) -> StaticQrTarget:
    """Step 1 in the caller's unit: the code pays and its merchant takes the wallet."""
    if not looks_like_token(token):
        raise StaticQrNotFoundError("no such static QR code")
    conn = await uow.connection()
    found = await repository.code_of(conn, token)
    if found is None or not found.pays:
        raise StaticQrNotFoundError("no such static QR code")
    merchant = await shared.merchant_view(conn, found.code.merchant_id)
    check_merchant(merchant)
    assert merchant is not None
    code = found.code
    return StaticQrTarget(code.token, merchant, code.store_id, code.store_name, code.fixed_amount)


async def find_target(services: Services, *, token: str) -> StaticQrTarget:
    """Whom ``token`` pays (reads only; step 1's refusals)."""

    async def work(uow: UnitOfWork) -> StaticQrTarget:
        return await _target_in(uow, token)

    return await run_unit(services.engine, work, read_only=True)


async def describe(services: Services, *, user_id: str, token: str) -> StaticQrScreen:
    """The pay page before paying: the payee, and whether the payer has password-free
    payments on (and their cap), so the page can say when the PIN may be left out."""
    target = await find_target(services, token=token)
    setting = await password_free.get_setting(services, user_id)
    daily = SpendingPolicy.from_settings(services.settings).daily_static_qr
    return StaticQrScreen(target, setting.enabled, setting.per_payment_cap, Money(daily))


def _amount_for(target: StaticQrTarget, amount: Money | None) -> Money:
    """Step 2: the fixed amount, or the one typed."""
    fixed = target.fixed_amount
    if fixed is not None:
        if amount is not None and amount != fixed:
            raise StaticQrAmountError(
                f"this code is for {fixed.to_decimal_string()} {fixed.currency} exactly",
                field="amount",
            )
        return fixed
    if amount is None:
        raise StaticQrAmountError("give the amount to pay", field="amount")
    require_wallet_currency(amount.currency)
    return amount


def _request_hash(token: str, amount: Money) -> str:
    content = ["static_qr", token, amount.minor, amount.currency]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


async def pay_static_qr(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    token: str,
    amount: Money | None,
    payment_password: str | None,
    request_key: RequestKey | None,
    caller: Caller | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
    announce: Announce | None = None,
) -> PaymentView:
    """Pay the merchant (or store) of ``token`` from ``user_id``'s wallet (module doc).

    ``amount`` None is right for a fixed-amount code only; ``payment_password`` None asks
    for a password-free payment (``step_up_required`` when the setting or the no-PIN
    limits do not allow it). ``caller`` gets the step-up a risk challenge asks for;
    ``challenge_id`` is one it passed, ``device_id`` its session's device. Returns the
    payment; its order is the merchant's like any.
    """
    return await once_per_request(
        services,
        user_id=user_id,
        request_key=request_key,
        pay=lambda digest: _pay(
            services,
            actor,
            user_id=user_id,
            token=token,
            amount=amount,
            pin=payment_password,
            request_key=digest,
            stepped=Stepped(caller, device_id, challenge_id),
            announce=announce,
        ),
    )


async def _pay(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    token: str,
    amount: Money | None,
    pin: str | None,
    request_key: str | None,
    stepped: Stepped,
    announce: Announce | None,
) -> PaymentView:
    target = await find_target(services, token=token)
    to_pay = _amount_for(target, amount)
    if pin is None:
        await password_free.check_eligible(services, user_id=user_id, amount=to_pay)
        auth = AuthStrength.NONE
    else:
        await require_payment_password(services, user_id=user_id, pin=pin, actor=actor)
        auth = AuthStrength.PIN
    merchant_id = target.merchant.id
    accounts = await payment_accounts(
        services, user_id=user_id, merchant_id=merchant_id, currency=to_pay.currency
    )
    clock = services.clock

    async def work(uow: UnitOfWork) -> PaymentView:
        payer = await locked_user(uow, user_id)  # lock order: the payer's row first
        now = clock.now()
        current = await _target_in(uow, token)  # regenerated or disabled since the read?
        if current.merchant.id != merchant_id or current.fixed_amount != target.fixed_amount:
            raise StaticQrNotFoundError("no such static QR code")
        order = await _insert_order(uow, current, amount=to_pay, now=now)
        settled = await settle_order(
            uow,
            services,
            order=order,
            user_id=user_id,
            payment_id=new_id("pay"),
            accounts=accounts,
            channel=SpendChannel.STATIC_QR,
            auth=auth,
            merchant=current.merchant,
            payer=payer,
            request_key=request_key,
            device_id=stepped.device_id,
            challenge_id=stepped.challenge_id,
        )
        return settled.payment

    try:
        payment = await run_spend_unit(services, work, caller=stepped.caller)
    except LimitExceededError as refused:
        if auth is AuthStrength.NONE and password_free.needs_pin(refused):
            raise password_free.step_up("daily_limit") from refused
        raise
    if announce is not None:
        await _announce(announce, merchant_id)
    return payment


async def _insert_order(
    uow: UnitOfWork, target: StaticQrTarget, *, amount: Money, now: datetime
) -> OrderView:
    """The order a static-QR payment settles: ``out_trade_no`` drawn here, the subject the
    store's (or merchant's) name; written in the paying unit, so a refusal leaves none."""
    merchant = target.merchant
    order = OrderView(
        id=new_id("ord"),
        merchant_id=merchant.id,
        merchant_name=merchant.name,
        out_trade_no=new_id(STATIC_QR_ORDER_PREFIX),
        amount=amount,
        subject=target.payee_name[:128],
        notify_url=None,
        status=OrderStatus.AWAITING_PAYMENT,
        payment_id=None,
        refunded=Money(0, amount.currency),
        expires_at=now + timedelta(seconds=ORDER_SECONDS),
        paid_at=None,
        closed_at=None,
        created_at=now,
    )
    await shared.insert_order(
        await uow.connection(),
        order_id=order.id,
        merchant_id=order.merchant_id,
        out_trade_no=order.out_trade_no,
        amount=amount,
        subject=order.subject,
        notify_url=None,
        request_hash=_request_hash(target.token, amount),
        expires_at=order.expires_at,
        now=now,
    )
    return order


async def _announce(announce: Announce, merchant_id: str) -> None:
    """Wake the merchant's live views; the payment stands whatever happens here."""
    try:
        await announce([merchant_topic(merchant_id)])
    except Exception as error:  # a wake-up must never fail a payment
        log.warning("static_qr.announce_failed", merchant_id=merchant_id, error=str(error))
