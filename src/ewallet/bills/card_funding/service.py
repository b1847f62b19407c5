"""Paying a bill from a bound card, or the balance plus the card for the rest (快捷支付).

``POST /v1/bill-payments`` with ``funding: {"source": "card" | "balance_and_card",
"card_id"}`` (docs/bills.md, "Paying with a card"; no ``funding`` or ``source: balance``
is the balance path of :func:`ewallet.bills.service.pay_bill`, unchanged). The card part is
a bank debit into the payer's wallet earmarked for this bill
(:mod:`ewallet.funding.topups.card.earmarked.service`: a card top-up's row, request id and
suspense, exactly as an order's card payment uses them); when the bank says debited,
*one* unit credits the wallet from the bank and pays the bill from the wallet -- the
biller's payable is credited once, by the ordinary bill entry -- and from there it is an
ordinary ``pending`` payment: the biller is told, and a refusal refunds to the wallet.

:func:`charge_by_card`, called by ``pay_bill`` after the look-up and the payment password:

1. one unit, in the lock order of docs/architecture.md: the payer's row; the split
   (``balance_and_card``: the available balance, then the card for the rest -- a balance
   that covers it all is an ordinary balance payment, in this same unit); the card daily
   cap shared with orders (``limit_exceeded``, limit ``card_payment_daily``); the spend
   seam's freeze, limits and risk decision for the *whole* amount (reference
   ``bill:<id>``) before the bank is asked (a review refuses with ``under_review``, a
   challenge asks for a step-up); the card (``not_found`` unless the payer's and active)
   and its pending top-up; the balance part on a ledger hold wallet -> the biller's
   payable (``insufficient_balance``); the ``bill_payments`` row ``pending`` with
   ``card_status`` ``pending`` and no ledger transaction;
2. the bank is asked once, outside any transaction (request id ``topup:<top-up id>``);
3. debited: :func:`complete` -- the top-up credited (no top-up notice), the hold voided,
   the bill entry wallet -> payable posted, the delivery queued, in one unit; then the
   biller is told as for any payment; declined: :func:`release` -- nothing moved, the
   hold voided, the spend no longer counted, the payment ``rejected`` (``card_status``
   ``declined``; ``402 bank_declined``); unreachable: the same and ``503
   upstream_unavailable`` (the key may be used again); unknown: the amount in suspense,
   ``202`` with the payment ``pending``, until
   :func:`~ewallet.bills.card_funding.jobs.settle_pending_bill_card_payments` learns the
   bank's answer and completes or releases it, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import structlog
from sqlalchemy.exc import IntegrityError

from ewallet.bills import repository as bills_repository
from ewallet.bills.card_funding import repository
from ewallet.bills.delivery import DELIVERY_TOPIC, spend_reference, tell_payer
from ewallet.bills.views import BillFunding, BillLookup, BillPaymentView, FundingOptions
from ewallet.bills.views import CardOption as BillCardOption
from ewallet.cards.binding.service import list_cards
from ewallet.funding.topups.card.earmarked.service import (
    BankAnswer,
    CardDebit,
    ask_bank,
    carry_in_suspense,
    check_card_daily_cap,
    credit_accounts,
    credit_earmarked,
    earmarked_topup,
    fail_earmarked,
    open_card_debit,
)
from ewallet.identity.guards import locked_user
from ewallet.identity.runtime import Caller
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import (
    CreateHold,
    Hold,
    Transaction,
    TransactionKind,
    VoidHold,
    apply_command,
    chart,
    transfer,
)
from ewallet.ledger import repository as ledger_repository
from ewallet.models.bills import BillCardStatus
from ewallet.models.card_payments import FundingSource
from ewallet.models.funding import CardStatus
from ewallet.risk.spending import SpendingPolicy, release_spend
from ewallet.services import Services
from ewallet.spend.service import SpendRequest, admit_spend, run_spend_unit
from ewallet.worker.outbox import enqueue

log = structlog.get_logger(__name__)

REASON_MAX: Final = 200

# Books the whole bill from the balance in the caller's unit (``bills.service``'s own path).
FromBalance = Callable[[UnitOfWork], Awaitable[BillPaymentView]]


@dataclass(frozen=True, slots=True)
class _Started:
    payment: BillPaymentView
    debit: CardDebit


@dataclass(frozen=True, slots=True)
class LedgerAccounts:
    """The payer's wallet and the biller's payable account (opened before the unit)."""

    wallet: int
    payable: int


# ------------------------------------------------------------------------------ the use case


async def charge_by_card(
    services: Services,
    spend: SpendRequest,
    payment_id: str,
    *,
    bill: BillLookup,
    source: FundingSource,
    card_id: str,
    accounts: LedgerAccounts,
    caller: Caller,
    request_key: RequestKey | None,
    from_balance: FromBalance,
) -> BillPaymentView:
    """Steps 1-3 of the module doc (the look-up and the PIN passed already). Returns the
    payment ``pending`` -- its card debited and the biller still to be told, or (``202``)
    the bank's answer unknown -- or, when the balance covered it all, what
    ``from_balance`` made; raises the refusals (``bank_declined`` with
    ``bill_payment_id``, ``upstream_unavailable``, ``not_found``, the limits', ...)."""
    digest = None if request_key is None else request_key.digest
    try:
        started = await run_spend_unit(
            services,
            lambda uow: _start(
                uow,
                services,
                spend,
                payment_id,
                bill=bill,
                source=source,
                card_id=card_id,
                accounts=accounts,
                request_digest=digest,
                from_balance=from_balance,
            ),
            caller=caller,
        )
    except IntegrityError:
        earlier = await _for_request(services, user_id=spend.user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # the bank may be asked: the key stays with it
    if isinstance(started, BillPaymentView):  # the balance covered it all
        return started
    answer = await ask_bank(services, started.debit)
    return await _record(services, started.payment, started.debit, answer, request_key)


async def _for_request(
    services: Services, *, user_id: str, request_key: RequestKey | None
) -> BillPaymentView | None:
    if request_key is None:
        return None
    digest = request_key.digest

    async def work(uow: UnitOfWork) -> BillPaymentView | None:
        conn = await uow.connection()
        return await bills_repository.payment_for_request(
            conn, user_id=user_id, request_digest=digest
        )

    found = await run_unit(services.engine, work, read_only=True)
    if found is not None:
        request_key.effect_possible()
    return found


async def _start(
    uow: UnitOfWork,
    services: Services,
    spend: SpendRequest,
    payment_id: str,
    *,
    bill: BillLookup,
    source: FundingSource,
    card_id: str,
    accounts: LedgerAccounts,
    request_digest: str | None,
    from_balance: FromBalance,
) -> _Started | BillPaymentView:
    """Step 1 of the module doc, one unit: split, cap, admit, debit recorded, hold, row."""
    conn = await uow.connection()
    now = services.clock.now()
    payer = await locked_user(uow, spend.user_id)
    amount = spend.amount
    balance = 0
    if source is FundingSource.BALANCE_AND_CARD:
        available = await repository.wallet_available(conn, accounts.wallet)
        balance = max(0, min(amount.minor, available))
    if balance == amount.minor:  # nothing for the card: an ordinary payment from the balance
        return await from_balance(uow)
    balance_part = Money(balance, amount.currency)
    card_part = Money(amount.minor - balance, amount.currency)
    await check_card_daily_cap(services, conn, user_id=spend.user_id, card_part=card_part, now=now)
    await admit_spend(
        uow,
        spend,
        now=now,
        policy=SpendingPolicy.from_settings(services.settings),
        locked=payer,
        new_reference=True,
        wallet_account_id=accounts.wallet,
        keeps_held=False,  # risk is decided before the bank is asked: a review refuses
    )
    debit = await open_card_debit(
        uow, services, user_id=spend.user_id, card_id=card_id, amount=card_part, now=now
    )
    hold_id = None
    if balance_part.is_positive():
        hold = await apply_command(
            uow,
            CreateHold(
                key=f"{spend.reference}:balance",
                kind=TransactionKind.BILL,
                debit_account_id=accounts.wallet,
                credit_account_id=accounts.payable,
                amount=balance_part,
                metadata={
                    "bill_payment_id": payment_id,
                    "biller_id": bill.biller.id,
                    "part": "balance",
                },
            ),
            clock=services.clock,
        )
        assert isinstance(hold, Hold)
        hold_id = hold.id
    await bills_repository.insert_payment(
        conn,
        payment_id=payment_id,
        user_id=spend.user_id,
        bill=bill,
        amount=amount,
        ledger_transaction_id=None,
        request_digest=request_digest,
        now=now,
        hold_id=hold_id,
        funding=BillFunding(
            source=source.value,
            balance=balance_part,
            card=card_part,
            card_id=card_id,
            card_status=BillCardStatus.PENDING.value,
        ),
        card_topup_id=debit.topup.id,
    )
    payment = await bills_repository.find_payment(conn, payment_id)
    assert payment is not None
    return _Started(payment, debit)


async def _record(
    services: Services,
    payment: BillPaymentView,
    debit: CardDebit,
    answer: BankAnswer,
    request_key: RequestKey | None,
) -> BillPaymentView:
    """Step 3: record the bank's answer. Once the debit may have been sent, a failure to
    record it answers ``pending`` (the settle job finishes it), never a 500."""
    refusal: DomainError | None = None
    try:
        if answer.outcome == "succeeded":
            await complete(services, payment, bank_code=debit.bank_code, answer=answer)
        elif answer.outcome in ("declined", "unavailable"):
            reason = answer.reason or "declined"
            if await release(services, payment, bank_code=debit.bank_code, reason=reason):
                refusal = answer.error or BankDeclinedError(
                    f"the bank declined the debit: {reason}",
                    reason=reason,
                    bill_payment_id=payment.id,
                )
        else:
            await carry_in_suspense(services, debit)
    except Exception:
        log.exception("bills.card_payment_unrecorded", bill_payment_id=payment.id)
    if refusal is not None:
        if answer.error is not None and request_key is not None:
            request_key.nothing_happened()  # the bank was never reached: the key is free
        raise refusal
    return await _load(services, payment.id, fallback=payment)


async def _load(
    services: Services, payment_id: str, *, fallback: BillPaymentView
) -> BillPaymentView:
    async def work(uow: UnitOfWork) -> BillPaymentView | None:
        return await bills_repository.find_payment(await uow.connection(), payment_id)

    try:
        found = await run_unit(services.engine, work, read_only=True)
    except Exception:
        log.exception("bills.payment_unread", bill_payment_id=payment_id)
        return fallback
    return fallback if found is None else found


# ------------------------------------------------------------------------------ settling


async def complete(
    services: Services, payment: BillPaymentView, *, bank_code: str, answer: BankAnswer
) -> str:
    """The card was debited: in one unit credit the wallet (``topup:<id>``, metadata
    ``funds: bill:<id>``), void the balance part's hold, post the bill entry wallet ->
    the biller's payable (``bill:<id>``, the spend counted at step 1 not counted again) and
    queue the delivery. ``succeeded`` or ``already_settled``; safe to race and repeat.
    The caller then tells the biller (``deliver_payment``)."""
    assert payment.card_topup_id is not None
    topup = await earmarked_topup(services, payment.card_topup_id)
    credit = await credit_accounts(services, user_id=payment.user_id, bank_code=bank_code)
    currency = payment.amount.currency
    payable = await chart.open_account(
        services.ledger, chart.biller_payable(payment.biller_id, currency)
    )
    wallet = await chart.open_account(services.ledger, chart.wallet(payment.user_id, currency))
    retry_delay = timedelta(seconds=services.settings.bill_delivery_retry_seconds)

    async def pay(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        await locked_user(uow, payment.user_id)
        if not await repository.lock_awaiting(conn, payment.id):
            return "already_settled"
        await credit_earmarked(
            uow,
            services,
            topup=topup,
            accounts=credit,
            bank_reference=answer.bank_reference,
            funds=spend_reference(payment.id),
        )
        if payment.hold_id is not None:
            await apply_command(uow, VoidHold(hold_id=payment.hold_id), clock=services.clock)
        booked = await apply_command(
            uow,
            transfer(
                key=spend_reference(payment.id),
                debit_account_id=wallet.id,
                credit_account_id=payable.id,
                amount=payment.amount,
                kind=TransactionKind.BILL,
                metadata={
                    "bill_payment_id": payment.id,
                    "biller_id": payment.biller_id,
                    "card_topup_id": topup.id,
                },
            ),
            clock=services.clock,
        )
        assert isinstance(booked, Transaction)
        now = services.clock.now()
        changed = await repository.mark_debited(
            conn, payment.id, ledger_transaction_id=booked.id, now=now
        )
        assert changed  # the row is locked and waiting
        await enqueue(
            uow.session,
            topic=DELIVERY_TOPIC,
            payload={"bill_payment_id": payment.id},
            clock=services.clock,
            delay=retry_delay,
        )
        log.info("bills.card_payment_debited", bill_payment_id=payment.id)
        return "succeeded"

    return await run_unit(services.engine, pay)


async def release(
    services: Services,
    payment: BillPaymentView,
    *,
    bank_code: str,
    reason: str,
    notify: bool = False,
) -> bool:
    """The card was not debited: nothing moves -- the top-up ``failed`` (suspense
    released), the hold voided, the spend no longer counted, the payment ``rejected`` with
    ``card_status`` ``declined`` (its request key let go). False if it was settled already.
    ``notify``: tell the payer (a settle job: the request that asked has long answered)."""
    assert payment.card_topup_id is not None
    topup = await earmarked_topup(services, payment.card_topup_id)
    credit = await credit_accounts(services, user_id=payment.user_id, bank_code=bank_code)

    async def work(uow: UnitOfWork) -> bool:
        conn = await uow.connection()
        await locked_user(uow, payment.user_id)
        now = services.clock.now()
        shown = f"bank_declined: {reason}"[:REASON_MAX]
        if not await repository.mark_declined(conn, payment.id, reason=shown, now=now):
            return False
        await fail_earmarked(uow, services, topup=topup, accounts=credit, reason=reason)
        if payment.hold_id is not None:
            await apply_command(uow, VoidHold(hold_id=payment.hold_id), clock=services.clock)
        await release_spend(uow, reference=spend_reference(payment.id), now=now)
        if notify:
            assert payment.card_part is not None
            await tell_payer(
                uow,
                services.clock,
                payment,
                "bill_card_declined",
                card_amount=payment.card_part.to_decimal_string(),
            )
        return True

    return await run_unit(services.engine, work)


# -------------------------------------------------------------------------------- reads


async def funding_options(services: Services, user_id: str, *, currency: str) -> FundingOptions:
    """What the user could pay a bill from: the available balance and their active cards
    (the web pay page offers "balance, then card" and "all by card"; reads only)."""

    async def work(uow: UnitOfWork) -> int:
        conn = await uow.connection()
        wallet = await ledger_repository.get_account_by_code(
            conn, chart.wallet(user_id, currency).code
        )
        return 0 if wallet is None else wallet.available

    available = await run_unit(services.engine, work, read_only=True)
    cards = tuple(
        BillCardOption(card.id, card.bank_name, card.last_four)
        for card in await list_cards(services, user_id)
        if card.status == CardStatus.ACTIVE
    )
    return FundingOptions(Money(available, currency), cards)


def card_named(card_id: str | None) -> str:
    """The card a card source names (the schema insists on one; a direct caller may not)."""
    if card_id is None:
        raise NotFoundError("no such card")
    return card_id
