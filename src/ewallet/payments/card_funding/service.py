"""Paying an order from a bound card, or the balance plus the card for the rest (快捷支付).

``POST /v1/payments`` with ``funding: {"source": "card" | "balance_and_card", "card_id"}``
(docs/card-payments.md; no ``funding`` or ``source: balance`` is :func:`pay_order` of
:mod:`ewallet.payments.service`, unchanged). The card part is a bank debit into the payer's
wallet earmarked for this order (:mod:`ewallet.funding.topups.card.earmarked.service`: a
card top-up's row, request id and suspense); when the bank says debited, *one* unit
credits the wallet from the bank and pays the order from the wallet through
:func:`~ewallet.payments.service.settle_order` -- the merchant is credited once, by the
ordinary payment entry, and the ledger stays double-entry throughout.

The steps of :func:`pay_order_funded`:

1. a rerun of a request that made a payment answers it (paid, pending, or the refusal);
   the order is payable (``not_found``, ``merchant_not_supported``, ``order_not_payable``);
   the payment password -- a card payment always asks for it (``step_up_required`` with
   ``methods: ["payment_password"]`` without one);
2. one unit, in the lock order of docs/architecture.md: the payer's row; the split
   (``balance_and_card``: the available balance, then the card for the rest -- a balance
   that covers it all is an ordinary balance payment, in this same unit); the order
   *reserved* for this payment (``orders.reserved_by``, a conditional ``UPDATE``: of two
   payments racing for it one wins, the other is ``order_not_payable``, so the card is
   debited at most once); the card's daily cap (``limit_exceeded``, limit
   ``card_payment_daily``); the spend seam's limits and risk decision for the whole amount
   *before the bank is asked* (a review refuses with ``under_review``, a challenge asks for
   a step-up; the same spend reference ``payment:<id>`` is not counted twice when the
   order is paid); the card (``not_found`` unless the payer's and active) and its pending
   top-up; the balance part on a ledger hold wallet -> merchant (``insufficient_balance``;
   not spendable elsewhere while the bank answers); the ``card_payments`` row;
3. the bank is asked once, outside any transaction (request id ``topup:<top-up id>``);
4. ``succeeded``: :func:`complete` -- in one unit the top-up is credited (no top-up
   notice), the hold voided and the order paid from the wallet (``201``, the payment's
   ``funding`` says the split); ``declined``: :func:`release` -- nothing moved, the hold
   voided, the order free again, the spend no longer counted (``402 bank_declined``);
   unreachable: the same release and ``503 upstream_unavailable``; ``unknown``: the amount
   in suspense, ``202`` with the payment ``pending``; the order stays reserved until
   :func:`~ewallet.payments.card_funding.jobs.settle_pending_card_payments` learns the
   bank's answer and completes or releases it, once.

If the card was debited but the order can no longer be paid (it expired or was closed
while the bank answered, or a limit or risk refuses it now), :func:`complete` keeps the
money in the wallet instead: the top-up is credited, the hold voided, the payment ``failed``
(status ``kept``) and the payer told (notice ``card_payment_kept``) -- never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor
from ewallet.funding.topups.card.earmarked.service import (
    BankAnswer,
    CardDebit,
    ask_bank,
    carry_in_suspense,
    credit_accounts,
    credit_earmarked,
    earmarked_topup,
    fail_earmarked,
    open_card_debit,
)
from ewallet.identity.guards import locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.runtime import Caller
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import CreateHold, Hold, TransactionKind, VoidHold, apply_command
from ewallet.models.card_payments import CardPaymentStatus, FundingSource
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.payments import repository as payments_repository
from ewallet.payments.card_funding import repository
from ewallet.payments.card_funding.reading import card_payment_view, order_of, payer_choices
from ewallet.payments.card_funding.views import CardPaymentView, FundingChoice
from ewallet.payments.entry import PaymentAccounts
from ewallet.payments.errors import OrderNotPayableError
from ewallet.payments.password_free import service as password_free
from ewallet.payments.service import (
    check_payable,
    pay_order,
    payment_accounts,
    payment_for_request,
    settle_order,
)
from ewallet.payments.views import OrderView, PaymentView
from ewallet.risk.limits import china_day_start
from ewallet.risk.spending import (
    AuthStrength,
    LimitExceededError,
    SpendChannel,
    SpendingPolicy,
    release_spend,
)
from ewallet.services import Services
from ewallet.spend.service import SpendRequest, admit_spend, run_spend_unit

# The reading half lives in .reading; callers keep importing it from here.
__all__ = [
    "card_payment_view",
    "complete",
    "earlier_payment",
    "pay_order_funded",
    "payer_choices",
    "release",
]

log = structlog.get_logger(__name__)

# The limit named in ``limit_exceeded`` when the card's daily cap refuses a payment.
CARD_DAILY_LIMIT: Final = "card_payment_daily"


@dataclass(frozen=True, slots=True)
class _Started:
    payment: CardPaymentView
    debit: CardDebit


# ------------------------------------------------------------------------------ the use case


async def pay_order_funded(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    order_id: str,
    pin: str | None,
    funding: FundingChoice,
    caller: Caller | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
    request_key: RequestKey | None = None,
) -> PaymentView:
    """Pay ``order_id`` from the source ``funding`` names (module doc); ``status``
    ``pending`` when the bank's answer is unknown (answer ``202``)."""
    if funding.source is FundingSource.BALANCE:
        return await pay_order(
            services,
            actor,
            user_id=user_id,
            order_id=order_id,
            pin=pin,
            caller=caller,
            device_id=device_id,
            challenge_id=challenge_id,
            request_key=request_key,
        )
    earlier = await earlier_payment(services, user_id=user_id, request_key=request_key)
    if earlier is not None:
        return earlier
    order = await check_payable(services, order_id)
    if pin is None:  # a card payment is never password-free
        raise password_free.step_up("password_free_off")
    if funding.card_id is None:
        raise NotFoundError("no such card")
    await require_payment_password(services, user_id=user_id, pin=pin, actor=actor)
    accounts = await payment_accounts(
        services, user_id=user_id, merchant_id=order.merchant_id, currency=order.amount.currency
    )
    digest = None if request_key is None else request_key.digest
    try:
        started = await run_spend_unit(
            services,
            lambda uow: _start(
                uow,
                services,
                order=order,
                user_id=user_id,
                funding=funding,
                card_id=funding.card_id or "",
                accounts=accounts,
                request_key=digest,
                device_id=device_id,
                challenge_id=challenge_id,
            ),
            caller=caller,
        )
    except (OrderNotPayableError, IntegrityError):
        earlier = await earlier_payment(services, user_id=user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # the bank may be asked: the key stays with it
    if isinstance(started, PaymentView):  # the balance covered it all
        return started
    answer = await ask_bank(services, started.debit)
    return await _record(services, started.payment, started.debit, answer, request_key)


async def earlier_payment(
    services: Services, *, user_id: str, request_key: RequestKey | None
) -> PaymentView | None:
    """What an earlier run of the same request made: a payment, or a card payment still
    pending (or failed: its refusal again)."""
    paid = await payment_for_request(services, user_id=user_id, request_key=request_key)
    if paid is not None or request_key is None:
        return paid
    digest = request_key.digest

    async def work(uow: UnitOfWork) -> CardPaymentView | None:
        conn = await uow.connection()
        return await repository.card_payment_for_request(conn, user_id=user_id, request_key=digest)

    found = await run_unit(services.engine, work, read_only=True)
    if found is None:
        return None
    request_key.effect_possible()
    return await card_payment_view(services, user_id, payment_id=found.id)


async def _start(
    uow: UnitOfWork,
    services: Services,
    *,
    order: OrderView,
    user_id: str,
    funding: FundingChoice,
    card_id: str,
    accounts: PaymentAccounts,
    request_key: str | None,
    device_id: str | None,
    challenge_id: str | None,
) -> _Started | PaymentView:
    """Step 2 of the module doc, one unit: reserve, admit, hold, record."""
    conn = await uow.connection()
    now = services.clock.now()
    payer = await locked_user(uow, user_id)
    amount = order.amount
    payment_id = new_id("pay")
    balance = 0
    if funding.source is FundingSource.BALANCE_AND_CARD:
        available = await repository.wallet_available(conn, accounts.wallet)
        balance = max(0, min(amount.minor, available))
    if balance == amount.minor:  # nothing for the card: an ordinary payment from the balance
        settled = await settle_order(
            uow,
            services,
            order=order,
            user_id=user_id,
            payment_id=payment_id,
            accounts=accounts,
            channel=SpendChannel.PAYMENT,
            auth=AuthStrength.PIN,
            payer=payer,
            request_key=request_key,
            device_id=device_id,
            challenge_id=challenge_id,
        )
        return settled.payment
    balance_part = Money(balance, amount.currency)
    card_part = Money(amount.minor - balance, amount.currency)
    if not await repository.reserve_order(conn, order_id=order.id, payment_id=payment_id, now=now):
        current = await payments_repository.order_view(conn, order.id, now=now)
        status = "closed" if current is None else current.status
        if current is not None and status == "awaiting_payment":
            status = "reserved"  # another payment waits for its bank's answer
        raise OrderNotPayableError(f"the order is {status}", order_status=status)
    await _check_card_cap(services, conn, user_id=user_id, card_part=card_part, now=now)
    await admit_spend(
        uow,
        SpendRequest(
            user_id=user_id,
            amount=amount,
            channel=SpendChannel.PAYMENT,
            auth=AuthStrength.PIN,
            reference=f"payment:{payment_id}",
            counterparty=order.merchant_id,
            device_id=device_id,
            challenge_id=challenge_id,
        ),
        now=now,
        policy=SpendingPolicy.from_settings(services.settings),
        locked=payer,
        new_reference=True,
        wallet_account_id=accounts.wallet,
        keeps_held=False,  # risk is decided before the bank is asked: a review refuses
    )
    debit = await open_card_debit(
        uow, services, user_id=user_id, card_id=card_id, amount=card_part, now=now
    )
    hold_id = None
    if balance_part.is_positive():
        hold = await apply_command(
            uow,
            CreateHold(
                key=f"payment:{payment_id}:balance",
                kind=TransactionKind.PAYMENT,
                debit_account_id=accounts.wallet,
                credit_account_id=accounts.merchant,
                amount=balance_part,
                metadata={"payment_id": payment_id, "order_id": order.id, "part": "balance"},
            ),
            clock=services.clock,
        )
        assert isinstance(hold, Hold)
        hold_id = hold.id
    payment = await repository.insert_card_payment(
        conn,
        payment_id=payment_id,
        user_id=user_id,
        order_id=order.id,
        card_id=card_id,
        topup_id=debit.topup.id,
        source=funding.source,
        balance_part=balance_part,
        card_part=card_part,
        hold_id=hold_id,
        request_key=request_key,
        now=now,
    )
    return _Started(payment, debit)


async def _check_card_cap(
    services: Services, conn: AsyncConnection, *, user_id: str, card_part: Money, now: datetime
) -> None:
    """``limit_exceeded`` (limit ``card_payment_daily``) if ``card_part`` would take the
    user's card payments today (China time) past the configured cap."""
    cap = services.settings.card_payment_daily_limit_minor
    day = china_day_start(now)
    used = await repository.card_spent_since(conn, user_id=user_id, since=day)
    if used + card_part.minor <= cap:
        return
    remaining = Money(max(0, cap - used), card_part.currency)
    resets_at = (day + timedelta(days=1)).isoformat()
    raise LimitExceededError(
        f"the {CARD_DAILY_LIMIT} limit allows {remaining} more; resets at {resets_at}",
        limit=CARD_DAILY_LIMIT,
        resets_at=resets_at,
        remaining={"amount": remaining.to_decimal_string(), "currency": remaining.currency},
    )


async def _record(
    services: Services,
    payment: CardPaymentView,
    debit: CardDebit,
    answer: BankAnswer,
    request_key: RequestKey | None,
) -> PaymentView:
    """Step 4: record the bank's answer (module doc). Once the debit may have been sent,
    a failure to record it answers ``pending`` (the settle job finishes it), not a 500."""
    refusal: DomainError | None = None
    try:
        if answer.outcome == "succeeded":
            await complete(services, payment, bank_code=debit.bank_code, answer=answer)
        elif answer.outcome in ("declined", "unavailable"):
            reason = answer.reason or "declined"
            if await release(services, payment, bank_code=debit.bank_code, reason=reason):
                refusal = answer.error or BankDeclinedError(
                    f"the bank declined the debit: {reason}", reason=reason
                )
        else:
            await carry_in_suspense(services, debit)
    except Exception:
        log.exception("payments.card_payment_unrecorded", payment_id=payment.id)
    if refusal is not None:
        if answer.error is not None and request_key is not None:
            request_key.nothing_happened()  # the bank was never reached: the key is free
        raise refusal
    return await card_payment_view(services, payment.user_id, payment_id=payment.id)


# ------------------------------------------------------------------------------ settling


async def complete(
    services: Services, payment: CardPaymentView, *, bank_code: str, answer: BankAnswer
) -> str:
    """The card was debited: in one unit credit the wallet, void the hold and pay the order
    from the wallet; if the order cannot be paid now, keep the money in the wallet (module
    doc). Answers ``succeeded``, ``kept`` or ``already_settled``; safe to race and repeat."""
    topup = await earmarked_topup(services, payment.topup_id)
    funds = f"payment:{payment.id}"
    credit = await credit_accounts(services, user_id=payment.user_id, bank_code=bank_code)
    order = await order_of(services, payment.order_id)
    accounts = await payment_accounts(
        services,
        user_id=payment.user_id,
        merchant_id=order.merchant_id,
        currency=payment.amount.currency,
    )

    async def pay(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        payer = await locked_user(uow, payment.user_id)
        await repository.lock_order(conn, payment.order_id)
        now = services.clock.now()
        if not await repository.finish(
            conn, payment.id, status=CardPaymentStatus.SUCCEEDED, now=now
        ):
            return "already_settled"
        await credit_earmarked(
            uow,
            services,
            topup=topup,
            accounts=credit,
            bank_reference=answer.bank_reference,
            funds=funds,
        )
        if payment.hold_id is not None:
            await apply_command(uow, VoidHold(hold_id=payment.hold_id), clock=services.clock)
        settled = await settle_order(
            uow,
            services,
            order=order,
            user_id=payment.user_id,
            payment_id=payment.id,
            accounts=accounts,
            channel=SpendChannel.PAYMENT,
            auth=AuthStrength.PIN,
            payer=payer,
            request_key=payment.request_key,
            # The spend passed the limits, risk (and any step-up) before the bank was asked.
            confirmed_by=f"card_payment:{payment.id}",
            spend_counted=True,
        )
        log.info("payments.card_payment_paid", payment_id=settled.payment.id)
        return "succeeded"

    try:
        return await run_unit(services.engine, pay)
    except DomainError as refused:
        log.warning("payments.card_payment_kept", payment_id=payment.id, code=refused.code)

    async def keep(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        payer = await locked_user(uow, payment.user_id)
        await repository.lock_order(conn, payment.order_id)
        now = services.clock.now()
        if not await repository.finish(
            conn, payment.id, status=CardPaymentStatus.KEPT, now=now, reason="order_not_paid"
        ):
            return "already_settled"
        await credit_earmarked(
            uow,
            services,
            topup=topup,
            accounts=credit,
            bank_reference=answer.bank_reference,
            funds=funds,
        )
        await _let_go(uow, services, payment, payer=payer, notice="card_payment_kept", order=order)
        return "kept"

    return await run_unit(services.engine, keep)


async def release(
    services: Services,
    payment: CardPaymentView,
    *,
    bank_code: str,
    reason: str,
    notify: bool = False,
) -> bool:
    """The card was not debited: nothing moves -- the top-up ``failed``, the hold voided,
    the order free again, the spend no longer counted, the payment ``failed`` (its request
    key let go). False if it was settled already. ``notify``: tell the payer (a settle job)."""
    topup = await earmarked_topup(services, payment.topup_id)
    credit = await credit_accounts(services, user_id=payment.user_id, bank_code=bank_code)
    order = await order_of(services, payment.order_id)

    async def work(uow: UnitOfWork) -> bool:
        conn = await uow.connection()
        payer = await locked_user(uow, payment.user_id)
        await repository.lock_order(conn, payment.order_id)
        now = services.clock.now()
        if not await repository.finish(
            conn,
            payment.id,
            status=CardPaymentStatus.FAILED,
            now=now,
            reason=reason[:200],
            forget_request=True,
        ):
            return False
        await fail_earmarked(uow, services, topup=topup, accounts=credit, reason=reason)
        notice = "card_payment_failed" if notify else None
        await _let_go(uow, services, payment, payer=payer, notice=notice, order=order)
        return True

    return await run_unit(services.engine, work)


async def _let_go(
    uow: UnitOfWork,
    services: Services,
    payment: CardPaymentView,
    *,
    payer: User,
    notice: str | None,
    order: OrderView,
) -> None:
    """Void the balance part's hold, free the order, stop counting the spend, tell the payer."""
    now = services.clock.now()
    if payment.hold_id is not None:
        await apply_command(uow, VoidHold(hold_id=payment.hold_id), clock=services.clock)
    conn = await uow.connection()
    await repository.release_order(conn, order_id=payment.order_id, payment_id=payment.id, now=now)
    await release_spend(uow, reference=f"payment:{payment.id}", now=now)
    if notice is not None:
        await notify_user(
            uow.session,
            clock=services.clock,
            user=payer,
            kind=notice,
            params={
                "amount": payment.amount.to_decimal_string(),
                "card_amount": payment.card_part.to_decimal_string(),
                "currency": payment.amount.currency,
                "merchant": order.merchant_name,
            },
            sms=False,
            security=False,
        )
