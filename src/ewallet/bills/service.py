"""Bills: the directory, looking a bill up, paying it, telling the biller, the receipt.

:func:`pay_bill` is the whole payment, whoever calls it. Its steps and refusals, in order:

1. A rerun of a request that already charged answers that payment's state (no PIN check,
   no second charge).
2. Before the payment password, refusals that cost nothing: the biller exists and is
   active (``not_found``), a top-up amount is one it offers (``bill_amount_not_allowed``),
   the account number has its format (``bill_account_invalid``), and the biller knows the
   account (a look-up: ``bill_account_not_found``; a biller that does not answer is
   ``upstream_unavailable``). None of these costs a PIN attempt or moves money.
3. The payment password (``require_payment_password`` of
   :mod:`ewallet.identity.payment_password.service`).
4. One unit of work through the spend seam (:mod:`ewallet.spend.service`, channel
   ``bill``): the user's row lock, the freeze (``account_frozen``), the limits
   (``limit_exceeded``), one ledger entry (kind ``bill``, wallet → ``biller_payable:<biller>``;
   ``insufficient_balance``), the ``bill_payments`` row ``pending`` and a ``bills.deliver``
   outbox event (due after ``bill_delivery_retry_seconds``). Any refusal rolls all of it
   back: nothing is left behind.
5. After commit the biller is told at once (:func:`deliver_payment`). If it cannot be
   reached the payment stays ``pending`` and the queued event (:mod:`ewallet.bills.jobs`)
   tells it again, with back-off, until it answers; it deduplicates by our reference (the
   payment id), so it is never paid twice, and the money is never lost. A payment the
   biller refused for good is ``biller_declined`` (the money is back in the wallet).

Delivering finishes a payment from the biller's answer: accepted → ``succeeded`` (receipt
number, the user notified); refused for good → ``failed`` (the entry reversed, the spend
released from the limits, the user notified); no usable answer → still ``pending``. The
status leaves ``pending`` with a conditional ``UPDATE`` in the same unit as the ledger
command, so a payment is settled at most once however often, or concurrently, it is
delivered.

Risk control may hold a payment for review (docs/risk-review.md): step 4 then books a hold
of the amount instead of the entry, opens the review and writes the payment
``under_review``, queues nothing and tells the biller nothing; the user is told when the
decision is due (``bill_under_review``). A risk officer's decision finishes it through
:func:`finish_reviewed_bill`: approved, the hold posts, the payment becomes ``pending``
with that transaction and its ``bills.deliver`` event is queued, due at once -- from there
it is delivered exactly like a fresh payment; rejected, the hold is voided, the spend
released from the limits, the payment ``rejected`` and the user told. A risk challenge
(step 4) answers ``401 step_up_required``; the request brought back with the passed
``challenge_id`` goes through (:func:`ewallet.spend.service.run_spend_unit`).

Paid from a bound card, or the balance and the card for the rest (``funding_source``,
docs/bills.md "Paying with a card"), step 4 is :mod:`ewallet.bills.card_funding.service`:
the whole amount through the spend seam before the bank is asked, the balance part on a
hold, the card debited once, and -- when the bank says debited -- the wallet credited and
the bill entry posted in one unit; step 5 is then the same. A balance that covers it all is
this module's own step 4 (:func:`charge_from_balance`), in the same unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ewallet.audit.service import Actor
from ewallet.bills import repository
from ewallet.bills.card_funding.service import (
    LedgerAccounts,
    card_named,
    charge_by_card,
    funding_options,
)
from ewallet.bills.delivery import DELIVERY_TOPIC, deliver_payment, spend_reference, tell_payer
from ewallet.bills.errors import BillerDeclinedError, BillReceiptNotReadyError
from ewallet.bills.views import (
    BillLookup,
    BillPaymentDetail,
    BillPaymentView,
    PayableBill,
    Receipt,
)
from ewallet.identity.errors import AccountFrozenError
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.realname.rules import mask_real_name
from ewallet.identity.runtime import Caller
from ewallet.integrations.biller.directory import DEFAULT_BILLERS, BillerSpec
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import (
    PostHold,
    Transaction,
    TransactionKind,
    VoidHold,
    apply_command,
    chart,
    transfer,
)
from ewallet.models.bills import BillerStatus, BillPaymentStatus
from ewallet.models.card_payments import FundingSource
from ewallet.models.identity import UserStatus
from ewallet.risk.review.views import ReviewView
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy, release_spend
from ewallet.services import Services
from ewallet.spend.service import (
    Held,
    ReviewTerms,
    SpendRequest,
    expect_spent,
    run_spend_unit,
    spend_from_wallet,
)
from ewallet.worker.outbox import enqueue

log = structlog.get_logger(__name__)


# ---------------------------------------------------------------------------- directory


async def seed_directory(
    services: Services, *, specs: Sequence[BillerSpec] = DEFAULT_BILLERS
) -> int:
    """Write the default billers that are missing (at start); the number written.

    Missing rows only, so an operator's later edits survive a restart and a database
    emptied or restored elsewhere gets them back. Two processes starting together may race:
    the loser's insert meets the primary key and is dropped (the winner wrote the same
    rows). An unmigrated or unreachable database is logged and ignored, so it never stops
    the app from starting; readiness reports it.
    """
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> int:
        conn = await uow.connection()
        present = await repository.biller_ids(conn)
        missing = [spec for spec in specs if spec.id not in present]
        await repository.insert_billers(conn, missing, now=now)
        return len(missing)

    try:
        written = await run_unit(services.engine, work)
    except IntegrityError:
        return 0
    except (SQLAlchemyError, OSError) as error:
        log.warning("bills.directory_not_seeded", error=type(error).__name__)
        return 0
    if written:
        log.info("bills.directory_seeded", billers=written)
    return written


async def list_billers(services: Services, *, category: str | None) -> list[BillerSpec]:
    """Active billers, by category then the directory's order."""

    async def work(uow: UnitOfWork) -> list[BillerSpec]:
        return await repository.active_billers(await uow.connection(), category=category)

    return await run_unit(services.engine, work, read_only=True)


async def get_biller(services: Services, biller_id: str) -> BillerSpec:
    """One active biller of the directory (to ask for an account number with its hint);
    ``not_found`` for an unknown or inactive one. Reads only."""
    return await _biller(services, biller_id, active=True)


async def _biller(services: Services, biller_id: str, *, active: bool) -> BillerSpec:
    """The biller; ``not_found`` if there is none, or (``active``) it is not active."""

    async def work(uow: UnitOfWork) -> BillerSpec | None:
        return await repository.find_biller(await uow.connection(), biller_id)

    biller = await run_unit(services.engine, work, read_only=True)
    if biller is None or (active and biller.status != BillerStatus.ACTIVE):
        raise NotFoundError("no such biller")
    return biller


# ------------------------------------------------------------------------------ look-up


async def lookup_bill(services: Services, *, biller_id: str, account_no: str) -> BillLookup:
    """The account's current bill at the biller; reads only, moves nothing.

    Refusals, in order: ``not_found`` (biller), ``bill_account_invalid``,
    ``bill_account_not_found``, ``upstream_unavailable``.
    """
    biller = await _biller(services, biller_id, active=True)
    return await _quote(services, biller, account_no)


async def lookup_bill_to_pay(
    services: Services, user_id: str, *, biller_id: str, account_no: str
) -> PayableBill:
    """:func:`lookup_bill` for its payer, with their available balance and active cards
    (the web pay page offers the balance, a card, or both); reads only, moves nothing."""
    bill = await lookup_bill(services, biller_id=biller_id, account_no=account_no)
    options = await funding_options(services, user_id, currency=bill.amount_due.currency)
    return PayableBill(bill, options)


async def _quote(services: Services, biller: BillerSpec, account_no: str) -> BillLookup:
    account = biller.normalize_account(account_no)
    quote = await services.biller.lookup(biller_id=biller.id, account_no=account)
    return BillLookup(
        biller=biller,
        account_no=account,
        holder_name_masked=mask_real_name(quote.holder_name) if quote.holder_name else "",
        amount_due=quote.amount_due,
        period=quote.period,
        due_date=quote.due_date,
    )


# ------------------------------------------------------------------------------- paying


async def pay_bill(
    services: Services,
    actor: Actor,
    *,
    user_id: str,
    biller_id: str,
    account_no: str,
    amount: Money,
    payment_password: str,
    caller: Caller,
    request_key: RequestKey | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
    funding_source: FundingSource = FundingSource.BALANCE,
    card_id: str | None = None,
) -> BillPaymentView:
    """Pay ``amount`` from the user's wallet to the biller (the module doc's steps).

    ``funding_source`` ``card`` or ``balance_and_card`` (with the user's bound ``card_id``)
    pays all of it, or what the balance does not cover, from the card
    (:mod:`ewallet.bills.card_funding.service`): ``pending`` while the bank's answer is
    unknown, ``bank_declined`` (``bill_payment_id``) or ``upstream_unavailable`` when the
    card was not debited (nothing moved), ``not_found`` for a card not the user's.

    Returns the payment ``succeeded`` or, while the biller has not confirmed, ``pending``,
    or held for a risk officer, ``under_review``; one it refused for good raises
    ``biller_declined`` (``reason``, ``bill_payment_id``). ``actor`` is who asked (the PIN
    check's audit events name it), ``caller`` where from (a risk challenge is sent to them:
    ``step_up_required``), ``device_id`` the session's device (risk reads it) and
    ``challenge_id`` the step-up they passed for this payment. With ``request_key`` the
    payment stores it: a rerun of the same request answers that payment's state.
    """
    payment = await bill_payment_for_request(services, user_id=user_id, request_key=request_key)
    if payment is None:
        biller = await _biller(services, biller_id, active=True)
        biller.check_amount(amount)
        bill = await _quote(services, biller, account_no)
        await require_payment_password(services, user_id=user_id, pin=payment_password, actor=actor)
        payment_id = new_id("bil")
        spend = SpendRequest(
            user_id=user_id,
            amount=amount,
            channel=SpendChannel.BILL,
            auth=AuthStrength.PIN,
            reference=spend_reference(payment_id),
            counterparty=bill.biller.id,
            device_id=device_id,
            challenge_id=challenge_id,
        )
        if funding_source is FundingSource.BALANCE:
            charged = await _charge(
                services, spend, payment_id, bill=bill, caller=caller, request_key=request_key
            )
        else:
            charged = await _charge_by_card(
                services,
                spend,
                payment_id,
                bill=bill,
                source=funding_source,
                card_id=card_named(card_id),
                caller=caller,
                request_key=request_key,
            )
        waiting = charged.under_review or charged.awaiting_bank
        payment = charged if waiting else await _deliver_after_charge(services, charged)
    if payment.status == BillPaymentStatus.FAILED:
        raise BillerDeclinedError(
            "the biller refused the payment; the money is back in the wallet",
            reason=payment.failure_reason,
            bill_payment_id=payment.id,
        )
    return payment


async def bill_accounts(
    services: Services, *, user_id: str, biller_id: str, currency: str
) -> LedgerAccounts:
    """Open (or find) the payer's wallet and the biller's payable account."""
    wallet = await chart.open_account(services.ledger, chart.wallet(user_id, currency))
    payable = await chart.open_account(services.ledger, chart.biller_payable(biller_id, currency))
    return LedgerAccounts(wallet.id, payable.id)


async def _charge_by_card(
    services: Services,
    spend: SpendRequest,
    payment_id: str,
    *,
    bill: BillLookup,
    source: FundingSource,
    card_id: str,
    caller: Caller,
    request_key: RequestKey | None,
) -> BillPaymentView:
    """Step 4 with a card (:func:`ewallet.bills.card_funding.service.charge_by_card`); a
    balance that covers it all books it as :func:`_charge` does, in the same unit."""
    accounts = await bill_accounts(
        services, user_id=spend.user_id, biller_id=bill.biller.id, currency=spend.amount.currency
    )
    digest = None if request_key is None else request_key.digest

    async def from_balance(uow: UnitOfWork) -> BillPaymentView:
        return await charge_from_balance(
            uow, services, spend, payment_id, bill=bill, accounts=accounts, request_digest=digest
        )

    return await charge_by_card(
        services,
        spend,
        payment_id,
        bill=bill,
        source=source,
        card_id=card_id,
        accounts=accounts,
        caller=caller,
        request_key=request_key,
        from_balance=from_balance,
    )


async def _charge(
    services: Services,
    spend: SpendRequest,
    payment_id: str,
    *,
    bill: BillLookup,
    caller: Caller,
    request_key: RequestKey | None,
) -> BillPaymentView:
    """Move the money and record the payment ``pending``, or hold it ``under_review``
    (step 4 of the module doc).

    A concurrent run of the same request that committed first is answered instead (the
    unique request key refuses the second payment).
    """
    accounts = await bill_accounts(
        services, user_id=spend.user_id, biller_id=bill.biller.id, currency=spend.amount.currency
    )
    digest = None if request_key is None else request_key.digest

    async def work(uow: UnitOfWork) -> BillPaymentView:
        return await charge_from_balance(
            uow, services, spend, payment_id, bill=bill, accounts=accounts, request_digest=digest
        )

    try:
        charged = await run_spend_unit(services, work, caller=caller)
    except IntegrityError:
        earlier = await bill_payment_for_request(
            services, user_id=spend.user_id, request_key=request_key
        )
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # the money moved (or is held) for this request
    return charged


async def charge_from_balance(
    uow: UnitOfWork,
    services: Services,
    spend: SpendRequest,
    payment_id: str,
    *,
    bill: BillLookup,
    accounts: LedgerAccounts,
    request_digest: str | None,
) -> BillPaymentView:
    """Step 4 of the module doc in the caller's unit: the spend seam, the entry (or the
    review hold), the row, the queued delivery. A card-funded payment whose balance
    covers it all is exactly this (:mod:`ewallet.bills.card_funding.service`)."""
    clock = services.clock
    user_id, amount = spend.user_id, spend.amount
    retry_delay = timedelta(seconds=services.settings.bill_delivery_retry_seconds)
    review = ReviewTerms(payment_id, timedelta(minutes=services.settings.risk_review_sla_minutes))
    now = clock.now()
    command = transfer(
        key=spend.reference,
        debit_account_id=accounts.wallet,
        credit_account_id=accounts.payable,
        amount=amount,
        kind=TransactionKind.BILL,
        metadata={"bill_payment_id": payment_id, "biller_id": bill.biller.id},
    )
    result = await spend_from_wallet(
        uow,
        spend,
        command,
        clock=clock,
        policy=SpendingPolicy.from_settings(services.settings),
        keeps_held=True,
        review=review,
    )
    conn = await uow.connection()
    if isinstance(result, Held):
        return await _hold_for_review(
            uow, clock, result, payment_id, bill=bill, spend=spend, request_digest=request_digest
        )
    booked = expect_spent(result)
    assert isinstance(booked, Transaction)
    await repository.insert_payment(
        conn,
        payment_id=payment_id,
        user_id=user_id,
        bill=bill,
        amount=amount,
        ledger_transaction_id=booked.id,
        request_digest=request_digest,
        now=now,
    )
    # The safety net: if telling the biller now fails, or this process dies first,
    # the worker tells it later. A payment already settled makes the event a no-op.
    await enqueue(
        uow.session,
        topic=DELIVERY_TOPIC,
        payload={"bill_payment_id": payment_id},
        clock=clock,
        delay=retry_delay,
    )
    charged = await repository.find_payment(conn, payment_id)
    assert charged is not None
    return charged


async def _hold_for_review(
    uow: UnitOfWork,
    clock: Clock,
    held: Held,
    payment_id: str,
    *,
    bill: BillLookup,
    spend: SpendRequest,
    request_digest: str | None,
) -> BillPaymentView:
    """The payment waits on its review hold: nothing queued, the biller not told, the
    user told when to expect the decision."""
    conn = await uow.connection()
    await repository.insert_payment(
        conn,
        payment_id=payment_id,
        user_id=spend.user_id,
        bill=bill,
        amount=spend.amount,
        ledger_transaction_id=None,
        request_digest=request_digest,
        now=clock.now(),
        status=BillPaymentStatus.UNDER_REVIEW,
        hold_id=held.hold.id,
        review_id=None if held.review is None else held.review.id,
    )
    payment = await repository.find_payment(conn, payment_id)
    assert payment is not None
    due = payment.review_due_at
    shown = "" if due is None else due.isoformat(timespec="minutes")
    await tell_payer(uow, clock, payment, "bill_under_review", due=shown)
    return payment


async def _deliver_after_charge(services: Services, charged: BillPaymentView) -> BillPaymentView:
    """Tell the biller right after the charge committed; the payment's state after.

    The money has moved: nothing may escape as a 500 the client would retry. Any failure
    here (the biller's answer unrecorded, the database gone) leaves the payment ``pending``
    for the queued ``bills.deliver`` event, and answers it as pending.
    """
    try:
        await deliver_payment(services, charged.id)
    except Exception:
        log.exception("bills.delivery_failed", bill_payment_id=charged.id)
    try:
        return await _load(services, charged.id)
    except Exception:
        log.exception("bills.payment_unread", bill_payment_id=charged.id)
        return charged


async def bill_payment_for_request(
    services: Services, *, user_id: str, request_key: RequestKey | None
) -> BillPaymentView | None:
    """The payment an earlier run of the same request made, if any (a rerun answers it).

    Finding one means its effect may have happened: the key stays with this request.
    """
    if request_key is None:
        return None
    digest = request_key.digest

    async def work(uow: UnitOfWork) -> BillPaymentView | None:
        return await repository.payment_for_request(
            await uow.connection(), user_id=user_id, request_digest=digest
        )

    found = await run_unit(services.engine, work, read_only=True)
    if found is not None:
        request_key.effect_possible()
    return found


# -------------------------------------------------------------------------------- reads


async def _find(services: Services, payment_id: str, user_id: str | None) -> BillPaymentView:
    async def work(uow: UnitOfWork) -> BillPaymentView | None:
        return await repository.find_payment(await uow.connection(), payment_id, user_id=user_id)

    found = await run_unit(services.engine, work, read_only=True)
    if found is None:
        raise NotFoundError("no such bill payment")
    return found


async def _load(services: Services, payment_id: str) -> BillPaymentView:
    return await _find(services, payment_id, None)


async def get_bill_payment(services: Services, user_id: str, *, payment_id: str) -> BillPaymentView:
    """One of the user's payments; anyone else's is ``not_found``."""
    return await _find(services, payment_id, user_id)


async def get_bill_payment_detail(
    services: Services, user_id: str, *, payment_id: str
) -> BillPaymentDetail:
    """One of the user's payments, whatever its status, with the biller it paid (even one
    no longer active); anyone else's is ``not_found``. Reads only."""
    payment = await get_bill_payment(services, user_id, payment_id=payment_id)
    return BillPaymentDetail(payment, await _biller(services, payment.biller_id, active=False))


async def get_receipt(services: Services, user_id: str, *, payment_id: str) -> Receipt:
    """The receipt of one of the user's payments: ``not_found``, then
    ``bill_receipt_not_ready`` (``status_of_payment``) until it succeeded."""
    payment = await get_bill_payment(services, user_id, payment_id=payment_id)
    if payment.status != BillPaymentStatus.SUCCEEDED:
        raise BillReceiptNotReadyError(
            f"the payment is {payment.status}; receipts exist for completed payments",
            status_of_payment=payment.status,
        )
    return Receipt(payment, await _biller(services, payment.biller_id, active=False))


# ------------------------------------------------------------------------------ reviews


async def finish_reviewed_bill(
    uow: UnitOfWork, clock: Clock, review: ReviewView, *, approved: bool
) -> None:
    """Finish a payment held for ``review``, in the unit that decided the review
    (:mod:`ewallet.reviews.service`).

    Approved: the hold posts (one ledger transaction, kind ``bill``: wallet → the biller's
    payable), the payment becomes ``pending`` with it and its ``bills.deliver`` event is
    queued, due at once: the worker tells the biller as it would for a fresh payment
    (``succeeded`` and ``bill_paid``, or ``failed`` and refunded). The payer is told
    (``bill_review_approved``). Refused -- the decision rolled back, the review left open
    for a rejection -- when the payer's account was frozen meanwhile (``account_frozen``:
    money never leaves a frozen account) or the biller was suspended (``conflict``,
    member ``reason``: ``biller_suspended``).

    Rejected: the hold is voided, the spend no longer counts toward the limits, the payment
    ``rejected`` and the payer told (``bill_review_rejected``). A rejection always goes
    through.
    """
    conn = await uow.connection()
    held = await repository.find_payment(conn, review.subject_id)
    if held is None or not held.under_review:
        raise ConflictError(
            "the reviewed bill payment is not under review",
            state="missing" if held is None else held.status,
        )
    now = clock.now()
    if not approved:
        await apply_command(uow, VoidHold(hold_id=review.hold_id), clock=clock)
        await release_spend(uow, reference=review.reference, now=now)
        await repository.finish_held(
            conn, held.id, status=BillPaymentStatus.REJECTED, ledger_transaction_id=None, now=now
        )
        await tell_payer(uow, clock, held, "bill_review_rejected", sms=True)
        return
    payer = await repository.find_user(uow.session, held.user_id)
    assert payer is not None  # users are never deleted
    if payer.status != UserStatus.ACTIVE:
        raise AccountFrozenError("the payer's account is frozen: reject the review instead")
    biller = await repository.find_biller(conn, held.biller_id)
    if biller is None or biller.status != BillerStatus.ACTIVE:
        raise ConflictError(
            "the biller is suspended: reject the review instead", reason="biller_suspended"
        )
    posted = await apply_command(
        uow,
        PostHold(
            key=f"{review.reference}:approved",
            hold_id=review.hold_id,
            metadata={"bill_payment_id": held.id, "review_id": review.id},
        ),
        clock=clock,
    )
    assert isinstance(posted, Transaction)
    await repository.finish_held(
        conn, held.id, status=BillPaymentStatus.PENDING, ledger_transaction_id=posted.id, now=now
    )
    await enqueue(
        uow.session, topic=DELIVERY_TOPIC, payload={"bill_payment_id": held.id}, clock=clock
    )
    await tell_payer(uow, clock, held, "bill_review_approved", sms=True)
