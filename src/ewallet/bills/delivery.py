"""Telling the biller about a payment and finishing the payment from its answer.

:func:`deliver_payment` runs right after a payment's unit commits (:mod:`.service`) and
from its queued ``bills.deliver`` event (:mod:`.jobs`) until the biller answers: accepted →
:func:`succeed_payment`; refused for good → :func:`fail_payment` (the entry reversed, the
spend released); no usable answer → the attempt counted, still ``pending``. A payment
leaves ``pending`` through a conditional ``UPDATE`` in the unit of its ledger command, so
it is finished at most once however often, or concurrently, it is delivered.
"""

from __future__ import annotations

import hashlib
from typing import Final

import structlog

from ewallet.bills import repository
from ewallet.bills.views import BillPaymentView
from ewallet.integrations.biller.port import (
    BillerConfirmation,
    BillerRejectedError,
    BillerUnreachableError,
)
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.ledger import Reverse, Transaction, apply_command
from ewallet.models.bills import BillPaymentStatus
from ewallet.notify.service import notify_user
from ewallet.risk.limits import CHINA_TIME
from ewallet.risk.spending import release_spend
from ewallet.services import Services

log = structlog.get_logger(__name__)

DELIVERY_TOPIC: Final = "bills.deliver"
REASON_MAX: Final = 200


def spend_reference(payment_id: str) -> str:
    return f"bill:{payment_id}"


async def _load(services: Services, payment_id: str) -> BillPaymentView:
    async def work(uow: UnitOfWork) -> BillPaymentView | None:
        return await repository.find_payment(await uow.connection(), payment_id)

    found = await run_unit(services.engine, work, read_only=True)
    if found is None:
        raise NotFoundError("no such bill payment")
    return found


async def deliver_payment(services: Services, payment_id: str) -> str:
    """Tell the biller about a pending payment and finish it; the status after.

    ``pending`` after means the biller gave no usable answer (the attempt is counted);
    a payment no longer pending is left as it is, and so is one whose card part the bank
    has not answered for (nothing posted yet: the biller is told once it is debited).
    """
    payment = await _load(services, payment_id)
    if payment.status != BillPaymentStatus.PENDING or payment.awaiting_bank:
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


async def tell_payer(
    uow: UnitOfWork,
    clock: Clock,
    payment: BillPaymentView,
    kind: str,
    *,
    sms: bool = False,
    **extra: str,
) -> None:
    """Tell the payer about their payment (in-app; ``sms`` as well for a review's
    decision, which comes later, when they may not be looking)."""
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
        uow.session, clock=clock, user=user, kind=kind, params=params, sms=sms, security=False
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
            await tell_payer(uow, services.clock, claimed, "bill_paid", receipt_no=receipt_no)

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
        assert claimed.ledger_transaction_id is not None  # a pending payment has posted
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
        await tell_payer(uow, services.clock, claimed, "bill_payment_failed", reason=short)

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
