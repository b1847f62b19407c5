"""Refunds of paid orders: full or partial, idempotent by ``out_refund_no``, never over.

The unit locks the order's payment row (``FOR NO KEY UPDATE``; SQLite holds its write
lock), then looks the refund number up, checks what is left to refund and moves the money
(merchant -> wallet, kind ``refund``, key ``refund:<id>``). Because every refund of one
payment queues on that row, twenty parallel refunds add up to at most what was paid, and a
repeated ``out_refund_no`` finds the first refund instead of making a second. The payer
gets a notice (and SMS) and the merchant's webhook an ``order.refunded`` event, in the same
unit. The payer's row is not locked: the notice's insert only takes ``FOR KEY SHARE`` on
it, which no payment of theirs blocks (kit/db/locking.py). Money flows into the wallet
here, so the spend seam is not involved.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.ledger import Transaction, TransactionKind, apply_command, chart, transfer
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.payments import repository as shared
from ewallet.payments.errors import (
    OrderNotRefundableError,
    OutRefundNoConflictError,
    RefundExceedsPaymentError,
)
from ewallet.payments.orders.service import webhook_url_for
from ewallet.payments.refunds import repository
from ewallet.payments.refunds.schemas import refund_document
from ewallet.payments.schemas import order_document
from ewallet.payments.views import OrderView, RefundView
from ewallet.payments.webhooks.service import queue_order_event
from ewallet.services import Services


async def _payer(services: Services, *, order_id: str, merchant_id: str) -> tuple[str, str]:
    """(payer's user id, currency) of a paid order of this merchant; refusals otherwise."""

    async def work(uow: UnitOfWork) -> tuple[str, str]:
        conn = await uow.connection()
        now = services.clock.now()
        order = await shared.order_view(conn, order_id, now=now, merchant_id=merchant_id)
        if order is None:
            raise NotFoundError("no such order")
        payment = await repository.payment_of_order(conn, order_id)
        if payment is None:
            raise OrderNotRefundableError("the order was never paid")
        return payment.user_id, payment.currency

    return await run_unit(services.engine, work, read_only=True)


async def refund_order(
    services: Services,
    merchant_id: str,
    *,
    order_id: str,
    amount: Money,
    out_refund_no: str,
) -> tuple[RefundView, OrderView, bool]:
    """Refund ``amount`` of the order; returns the refund, the order, and whether it is new.

    Refusals, in order: ``not_found`` (not this merchant's order), ``order_not_refundable``
    (never paid), ``out_refund_no_conflict`` (the number used for another refund),
    ``refund_exceeds_payment`` (more than is left, with ``refundable``). The same
    ``out_refund_no`` and amount again answers the first refund (``created`` False).
    """
    clock = services.clock
    user_id, currency = await _payer(services, order_id=order_id, merchant_id=merchant_id)
    merchant_account = await chart.open_account(
        services.ledger, chart.merchant(merchant_id, currency)
    )
    wallet = await chart.open_account(services.ledger, chart.wallet(user_id, currency))

    async def work(uow: UnitOfWork) -> tuple[RefundView, OrderView, bool]:
        conn = await uow.connection()
        now = clock.now()
        payment = await repository.payment_of_order(conn, order_id, locked=True)
        assert payment is not None  # payments are never deleted
        existing = await repository.refund_by_number(
            conn, merchant_id=merchant_id, out_refund_no=out_refund_no
        )
        if existing is not None:
            if existing.order_id != order_id or existing.amount.minor != amount.minor:
                raise OutRefundNoConflictError(
                    "this out_refund_no was already used for another refund"
                )
            order = await shared.order_view(conn, order_id, now=now)
            assert order is not None
            return existing, order, False
        left = payment.amount - payment.refunded_amount
        if amount.currency != payment.currency or amount.minor > left:
            raise RefundExceedsPaymentError(
                "the refund is more than what is left to refund",
                refundable={
                    "amount": Money(left, payment.currency).to_decimal_string(),
                    "currency": payment.currency,
                },
            )
        refund_id = new_id("rfd")
        posted = await apply_command(
            uow,
            transfer(
                key=f"refund:{refund_id}",
                debit_account_id=merchant_account.id,
                credit_account_id=wallet.id,
                amount=amount,
                kind=TransactionKind.REFUND,
                metadata={
                    "refund_id": refund_id,
                    "payment_id": payment.id,
                    "order_id": order_id,
                    "merchant_id": merchant_id,
                },
            ),
            clock=clock,
        )
        assert isinstance(posted, Transaction)
        await repository.add_refund(
            conn,
            refund_id=refund_id,
            payment=payment,
            order_id=order_id,
            merchant_id=merchant_id,
            out_refund_no=out_refund_no,
            amount=amount,
            ledger_transaction_id=posted.id,
            now=now,
        )
        refund = await repository.refund_by_number(
            conn, merchant_id=merchant_id, out_refund_no=out_refund_no
        )
        assert refund is not None
        order = await shared.order_view(conn, order_id, now=now)
        assert order is not None
        await queue_order_event(
            uow,
            clock=clock,
            merchant_id=merchant_id,
            order_id=order_id,
            url=await webhook_url_for(uow, order),
            event_type="order.refunded",
            data={"order": order_document(order), "refund": refund_document(refund)},
        )
        user = await uow.session.get(User, user_id)
        assert user is not None
        await notify_user(
            uow.session,
            clock=clock,
            user=user,
            kind="refund_received",
            params={
                "amount": amount.to_decimal_string(),
                "currency": amount.currency,
                "merchant": order.merchant_name,
            },
            security=False,
        )
        return refund, order, True

    try:
        return await run_unit(services.engine, work)
    except IntegrityError:
        # The same out_refund_no used at once on another order of this merchant: the
        # rerun sees the committed refund and answers as a repeat (or a conflict).
        return await run_unit(services.engine, work)
