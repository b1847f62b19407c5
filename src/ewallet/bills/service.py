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
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Final

import structlog
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ewallet.audit.service import Actor
from ewallet.bills import repository
from ewallet.bills.errors import BillerDeclinedError, BillReceiptNotReadyError
from ewallet.bills.views import BillLookup, BillPaymentDetail, BillPaymentView, Receipt
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.realname.rules import mask_real_name
from ewallet.integrations.biller.directory import DEFAULT_BILLERS, BillerSpec
from ewallet.integrations.biller.port import (
    BillerConfirmation,
    BillerRejectedError,
    BillerUnreachableError,
)
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import Reverse, Transaction, TransactionKind, apply_command, chart, transfer
from ewallet.models.bills import BillerStatus, BillPaymentStatus
from ewallet.notify.service import notify_user
from ewallet.risk.limits import CHINA_TIME
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy, release_spend
from ewallet.services import Services
from ewallet.spend.service import SpendRequest, expect_spent, spend_from_wallet
from ewallet.worker.outbox import enqueue

log = structlog.get_logger(__name__)

DELIVERY_TOPIC: Final = "bills.deliver"
REASON_MAX: Final = 200


def spend_reference(payment_id: str) -> str:
    return f"bill:{payment_id}"


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
    request_key: RequestKey | None = None,
) -> BillPaymentView:
    """Pay ``amount`` from the user's wallet to the biller (the module doc's steps).

    Returns the payment ``succeeded`` or, while the biller has not confirmed, ``pending``;
    one it refused for good raises ``biller_declined`` (``reason``, ``bill_payment_id``).
    ``actor`` is who asked (the PIN check's audit events name it). With ``request_key`` the
    payment stores it: a rerun of the same request answers that payment's state.
    """
    payment = await bill_payment_for_request(services, user_id=user_id, request_key=request_key)
    if payment is None:
        biller = await _biller(services, biller_id, active=True)
        biller.check_amount(amount)
        bill = await _quote(services, biller, account_no)
        await require_payment_password(services, user_id=user_id, pin=payment_password, actor=actor)
        charged = await _charge(
            services, user_id=user_id, bill=bill, amount=amount, request_key=request_key
        )
        payment = await _deliver_after_charge(services, charged)
    if payment.status == BillPaymentStatus.FAILED:
        raise BillerDeclinedError(
            "the biller refused the payment; the money is back in the wallet",
            reason=payment.failure_reason,
            bill_payment_id=payment.id,
        )
    return payment


async def _charge(
    services: Services,
    *,
    user_id: str,
    bill: BillLookup,
    amount: Money,
    request_key: RequestKey | None,
) -> BillPaymentView:
    """Move the money and record the payment ``pending`` (step 4 of the module doc).

    A concurrent run of the same request that committed first is answered instead (the
    unique request key refuses the second payment).
    """
    clock = services.clock
    wallet = await chart.open_account(services.ledger, chart.wallet(user_id, amount.currency))
    payable = await chart.open_account(
        services.ledger, chart.biller_payable(bill.biller.id, amount.currency)
    )
    payment_id = new_id("bil")
    reference = spend_reference(payment_id)
    retry_delay = timedelta(seconds=services.settings.bill_delivery_retry_seconds)

    async def work(uow: UnitOfWork) -> BillPaymentView:
        now = clock.now()
        spend = SpendRequest(
            user_id=user_id,
            amount=amount,
            channel=SpendChannel.BILL,
            auth=AuthStrength.PIN,
            reference=reference,
            counterparty=bill.biller.id,
        )
        command = transfer(
            key=reference,
            debit_account_id=wallet.id,
            credit_account_id=payable.id,
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
        )
        booked = expect_spent(result)
        assert isinstance(booked, Transaction)
        conn = await uow.connection()
        await repository.insert_payment(
            conn,
            payment_id=payment_id,
            user_id=user_id,
            bill=bill,
            amount=amount,
            ledger_transaction_id=booked.id,
            request_digest=None if request_key is None else request_key.digest,
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

    try:
        charged = await run_unit(services.engine, work)
    except IntegrityError:
        earlier = await bill_payment_for_request(services, user_id=user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # the money moved and the biller will be told
    return charged


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


# ----------------------------------------------------------------------------- delivery


async def deliver_payment(services: Services, payment_id: str) -> str:
    """Tell the biller about a pending payment and finish it; the status after.

    ``pending`` after means the biller gave no usable answer (the attempt is counted);
    a payment no longer pending is left as it is.
    """
    payment = await _load(services, payment_id)
    if payment.status != BillPaymentStatus.PENDING:
        return payment.status
    try:
        confirmation = await services.biller.notify_payment(
            reference=payment.id,
            biller_id=payment.biller_id,
            account_no=payment.account_no,
            amount=payment.amount,
        )
    except BillerRejectedError as refusal:
        await fail_payment(services, payment_id, refusal.reason)
    except BillerUnreachableError as error:
        await _note_attempt(services, payment_id, f"biller_unreachable: {error}")
    else:
        await succeed_payment(services, payment_id, confirmation)
    return (await _load(services, payment_id)).status


def receipt_number(payment: BillPaymentView) -> str:
    """``BR`` + the China date + 10 digits from the payment id: printable, unique in practice
    (the column is unique), and the same however often it is computed."""
    digits = int(hashlib.sha256(payment.id.encode()).hexdigest(), 16) % 10**10
    return f"BR{payment.created_at.astimezone(CHINA_TIME):%Y%m%d}{digits:010d}"


async def _notify(
    uow: UnitOfWork, services: Services, payment: BillPaymentView, kind: str, **extra: str
) -> None:
    user = await repository.find_user(uow.session, payment.user_id)
    assert user is not None
    biller = await repository.find_biller(await uow.connection(), payment.biller_id)
    assert biller is not None
    params = {
        "biller": biller.name_en if user.locale == "en" else biller.name_zh,
        "account": payment.account_no_masked,
        "amount": payment.amount.to_decimal_string(),
        "currency": payment.amount.currency,
        **extra,
    }
    await notify_user(
        uow.session,
        clock=services.clock,
        user=user,
        kind=kind,
        params=params,
        sms=False,
        security=False,
    )


async def succeed_payment(
    services: Services, payment_id: str, confirmation: BillerConfirmation
) -> None:
    """The biller accepted: ``succeeded`` with a receipt number, and the user told (once)."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        payment = await repository.find_payment(conn, payment_id)
        assert payment is not None
        claimed = await repository.claim_payment(
            conn,
            payment_id,
            now=services.clock.now(),
            status=BillPaymentStatus.SUCCEEDED.value,
            biller_confirmation=confirmation.confirmation_no[:64],
            receipt_no=receipt_number(payment),
            failure_reason=None,
        )
        if claimed is not None:
            receipt_no = claimed.receipt_no or ""
            await _notify(uow, services, claimed, "bill_paid", receipt_no=receipt_no)

    await run_unit(services.engine, work)
    log.info("bills.payment_succeeded", bill_payment_id=payment_id)


async def fail_payment(services: Services, payment_id: str, reason: str) -> None:
    """The biller refused for good: ``failed``, the entry reversed (the money back in the
    wallet), the spend released from the limits, the user told (once)."""
    short = reason[:REASON_MAX]

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        claimed = await repository.claim_payment(
            conn,
            payment_id,
            now=services.clock.now(),
            status=BillPaymentStatus.FAILED.value,
            failure_reason=short,
        )
        if claimed is None:
            return
        refund = await apply_command(
            uow,
            Reverse(
                key=f"{spend_reference(payment_id)}:refund",
                transaction_id=claimed.ledger_transaction_id,
                metadata={"bill_payment_id": payment_id, "reason": short},
            ),
            clock=services.clock,
        )
        assert isinstance(refund, Transaction)
        await repository.set_refund(conn, payment_id, refund.id)
        # The biller never took the money: the spend no longer counts toward the limits.
        await release_spend(uow, reference=spend_reference(payment_id), now=services.clock.now())
        await _notify(uow, services, claimed, "bill_payment_failed", reason=short)

    await run_unit(services.engine, work)
    log.info("bills.payment_failed", bill_payment_id=payment_id, reason=reason)


async def _note_attempt(services: Services, payment_id: str, reason: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        await repository.note_attempt(
            await uow.connection(),
            payment_id,
            reason=reason[:REASON_MAX],
            now=services.clock.now(),
        )

    await run_unit(services.engine, work)
    log.warning("bills.payment_pending", bill_payment_id=payment_id, reason=reason)
