"""Telling the biller about a payment, and finishing it from the biller's answer.

:func:`deliver` is called right after the payment's commit and, should that not settle it,
by the ``bills.deliver`` outbox handler (with back-off) until the biller answers:

- accepted → ``succeeded``: the receipt number is assigned and the user notified;
- refused for good → ``failed``: the ledger entry is reversed (the money returns to the
  wallet), the spend stops counting toward the limits, the user is notified;
- no usable answer → still ``pending`` (attempts counted); the handler raises so the relay
  retries later. The biller deduplicates by our reference, the payment id.

Finishing is idempotent: the status leaves ``pending`` with a conditional ``UPDATE`` in
the same unit as the ledger command, so a payment is settled at most once however often,
or however concurrently, it is delivered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Final

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.bills.directory import biller_in
from ewallet.bills.payments import DELIVERY_TOPIC, BillPaymentView, spend_reference
from ewallet.config import Settings
from ewallet.integrations.biller.port import (
    BillerConfirmation,
    BillerGateway,
    BillerRejectedError,
    BillerUnreachableError,
)
from ewallet.integrations.biller.wiring import standalone_biller_gateway
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.ledger import Reverse, Transaction, apply_command
from ewallet.models.identity import User
from ewallet.models.tables import bill_payments
from ewallet.notify.service import notify_user
from ewallet.risk.limits import CHINA_TIME
from ewallet.risk.spending import release_spend
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry

log = structlog.get_logger(__name__)

REASON_MAX: Final = 200


class BillDeliveryPendingError(RuntimeError):
    """The biller gave no usable answer: the outbox relay tries again later."""


async def deliver(
    engine: AsyncEngine, clock: Clock, gateway: BillerGateway, payment_id: str
) -> str:
    """Tell the biller about a pending payment and finish it; returns the status after."""
    payment = await _load(engine, payment_id)
    if payment.status != "pending":
        return payment.status
    try:
        confirmation = await gateway.notify_payment(
            reference=payment.id,
            biller_id=payment.biller_id,
            account_no=payment.account_no,
            amount=payment.amount,
        )
    except BillerRejectedError as refusal:
        await fail_payment(engine, clock, payment_id, refusal.reason)
    except BillerUnreachableError as error:
        await _note_attempt(engine, clock, payment_id, f"biller_unreachable: {error}")
    else:
        await succeed_payment(engine, clock, payment_id, confirmation)
    return (await _load(engine, payment_id)).status


async def deliver_after_charge(
    engine: AsyncEngine, clock: Clock, gateway: BillerGateway, charged: BillPaymentView
) -> BillPaymentView:
    """Tell the biller right after the charge committed; the payment's state after.

    The money has moved: nothing may escape as a 500 the client would retry. Any failure
    here (the biller's answer unrecorded, the database gone) leaves the payment ``pending``
    for the queued ``bills.deliver`` event, and answers it as pending.
    """
    try:
        await deliver(engine, clock, gateway, charged.id)
    except Exception:
        log.exception("bills.delivery_failed", bill_payment_id=charged.id)
    try:
        return await _load(engine, charged.id)
    except Exception:
        log.exception("bills.payment_unread", bill_payment_id=charged.id)
        return charged


async def _load(engine: AsyncEngine, payment_id: str) -> BillPaymentView:
    async def work(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        return (
            await conn.execute(select(bill_payments).where(bill_payments.c.id == payment_id))
        ).one()

    return BillPaymentView.of(await run_unit(engine, work, read_only=True))


async def _claim(uow: UnitOfWork, clock: Clock, payment_id: str, **values: Any) -> Any:
    """Move a pending payment to its final state; None if someone else already did."""
    conn = await uow.connection()
    now = clock.now()
    claimed = await conn.execute(
        update(bill_payments)
        .where(bill_payments.c.id == payment_id, bill_payments.c.status == "pending")
        .values(
            {
                "updated_at": now,
                "completed_at": now,
                "delivery_attempts": bill_payments.c.delivery_attempts + 1,
                **values,
            }
        )
    )
    if claimed.rowcount != 1:
        return None
    return (await conn.execute(select(bill_payments).where(bill_payments.c.id == payment_id))).one()


def receipt_number(payment_id: str, row: Any) -> str:
    """``BR`` + the China date + 10 digits from the payment id: printable, unique in practice
    (the column is unique), and the same however often it is computed."""
    digits = int(hashlib.sha256(payment_id.encode()).hexdigest(), 16) % 10**10
    return f"BR{row.created_at.astimezone(CHINA_TIME):%Y%m%d}{digits:010d}"


async def _notify(uow: UnitOfWork, clock: Clock, row: Any, kind: str, **extra: str) -> None:
    user = await uow.session.get(User, row.user_id)
    assert user is not None
    payment = BillPaymentView.of(row)
    biller = await biller_in(await uow.connection(), row.biller_id)
    params = {
        "biller": biller.name_en if user.locale == "en" else biller.name_zh,
        "account": payment.account_no_masked,
        "amount": payment.amount.to_decimal_string(),
        "currency": payment.amount.currency,
        **extra,
    }
    await notify_user(
        uow.session, clock=clock, user=user, kind=kind, params=params, sms=False, security=False
    )


async def succeed_payment(
    engine: AsyncEngine, clock: Clock, payment_id: str, confirmation: BillerConfirmation
) -> None:
    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        row = (
            await conn.execute(select(bill_payments).where(bill_payments.c.id == payment_id))
        ).one()
        claimed = await _claim(
            uow,
            clock,
            payment_id,
            status="succeeded",
            biller_confirmation=confirmation.confirmation_no[:64],
            receipt_no=receipt_number(payment_id, row),
            failure_reason=None,
        )
        if claimed is not None:
            await _notify(uow, clock, claimed, "bill_paid", receipt_no=claimed.receipt_no)

    await run_unit(engine, work)
    log.info("bills.payment_succeeded", bill_payment_id=payment_id)


async def fail_payment(engine: AsyncEngine, clock: Clock, payment_id: str, reason: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        row = await _claim(
            uow, clock, payment_id, status="failed", failure_reason=reason[:REASON_MAX]
        )
        if row is None:
            return
        refund = await apply_command(
            uow,
            Reverse(
                key=f"{spend_reference(payment_id)}:refund",
                transaction_id=row.ledger_transaction_id,
                metadata={"bill_payment_id": payment_id, "reason": reason[:REASON_MAX]},
            ),
            clock=clock,
        )
        assert isinstance(refund, Transaction)
        conn = await uow.connection()
        await conn.execute(
            update(bill_payments)
            .where(bill_payments.c.id == payment_id)
            .values(refund_transaction_id=refund.id)
        )
        # The biller never took the money: the spend no longer counts toward the limits.
        await release_spend(uow, reference=spend_reference(payment_id), now=clock.now())
        await _notify(uow, clock, row, "bill_payment_failed", reason=reason[:REASON_MAX])

    await run_unit(engine, work)
    log.info("bills.payment_failed", bill_payment_id=payment_id, reason=reason)


async def _note_attempt(engine: AsyncEngine, clock: Clock, payment_id: str, reason: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await conn.execute(
            update(bill_payments)
            .where(bill_payments.c.id == payment_id, bill_payments.c.status == "pending")
            .values(
                delivery_attempts=bill_payments.c.delivery_attempts + 1,
                failure_reason=reason[:REASON_MAX],
                updated_at=clock.now(),
            )
        )

    await run_unit(engine, work)
    log.warning("bills.payment_pending", bill_payment_id=payment_id, reason=reason)


@dataclass
class BillDeliveryHandler:
    """The ``bills.deliver`` handler; the engine is made on first use when not lent.

    The gateway is opened per delivery: the worker's sandbox (in development) shares the
    API process's database file, and nothing stays open between events.
    """

    settings: Settings
    clock: Clock
    engine: AsyncEngine | None = None
    _own_engine: bool = field(default=False, init=False)

    async def __call__(self, event: DeliveredEvent) -> None:
        if self.engine is None:
            self.engine = make_engine(self.settings.database_url, pool_size=2)
            self._own_engine = True
        payment_id = event.payload.get("bill_payment_id")
        if not isinstance(payment_id, str):
            raise TypeError(f"bills.deliver event {event.id} lacks bill_payment_id")
        async with standalone_biller_gateway(self.settings, self.clock) as gateway:
            status = await deliver(self.engine, self.clock, gateway, payment_id)
        if status == "pending":
            raise BillDeliveryPendingError(f"bill payment {payment_id}: the biller did not answer")


def register(
    registry: HandlerRegistry,
    *,
    settings: Settings,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
) -> None:
    """Add the ``bills.deliver`` handler (the worker and the embedded relay call this)."""
    if settings.secret_key is None:
        settings = settings.with_dev_secrets()
    registry.register(
        DELIVERY_TOPIC,
        BillDeliveryHandler(settings=settings, clock=clock or SystemClock(), engine=engine),
    )
