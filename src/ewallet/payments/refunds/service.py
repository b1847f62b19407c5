"""Refunds of paid orders: full or partial, idempotent by ``out_refund_no``, never over.

The unit locks the order's payment row (``FOR NO KEY UPDATE``; SQLite holds its write
lock), then looks the refund number up, checks what is left to refund and moves the money
in one transaction of kind ``refund``, key ``refund:<id>``: merchant -> wallet for the
refund less its share of the payment's fee, fee revenue -> wallet for that share (policy
``merchant_fee_refund_policy``; the share's rounding is in payments/fees.py, computed on
the payment row's running totals, so the shares of all refunds never exceed the fee and a
refund of the rest returns the rest of it). Because every refund of one
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
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.ledger import Leg, PostEntry, Side, Transaction, TransactionKind, apply_command, chart
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.payments import repository as shared
from ewallet.payments.errors import (
    OrderNotRefundableError,
    OutRefundNoConflictError,
    RefundExceedsPaymentError,
)
from ewallet.payments.fees import RefundPolicy, refund_fee_share
from ewallet.payments.orders.service import webhook_url_for
from ewallet.payments.refunds import repository
from ewallet.payments.refunds.schemas import refund_document
from ewallet.payments.schemas import order_document
from ewallet.payments.views import OrderView, RefundFilter, RefundView
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
    revenue = await chart.account_id(services.ledger, chart.fee_revenue(currency))
    policy = RefundPolicy(services.settings.merchant_fee_refund_policy)

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
        share = refund_fee_share(
            amount=payment.amount,
            fee=payment.fee,
            refunded_before=payment.refunded_amount,
            refund=amount.minor,
            returned_before=payment.fee_returned,
            policy=policy,
        )
        legs = [Leg(wallet.id, Side.CREDIT, amount)]
        if share < amount.minor:
            legs.append(Leg(merchant_account.id, Side.DEBIT, Money(amount.minor - share, currency)))
        if share > 0:
            legs.append(Leg(revenue, Side.DEBIT, Money(share, currency)))
        posted = await apply_command(
            uow,
            PostEntry(
                key=f"refund:{refund_id}",
                kind=TransactionKind.REFUND,
                legs=tuple(legs),
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
            fee_returned=share,
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


async def list_refunds(
    services: Services,
    merchant_id: str,
    *,
    wanted: RefundFilter,
    limit: int,
    cursor: str | None = None,
) -> Page[RefundView]:
    """The merchant's refunds newest first, kept by ``wanted``; ``next_cursor`` when more
    remain (the last item's ``(created_at, id)``: refunds made while a client pages neither
    repeat nor push items past a page). Another merchant's refunds never appear, whatever
    the filters name. Refusal: ``validation_error`` (a limit out of range, a malformed
    cursor, a time without its offset, a period that ends before it starts)."""
    limit = check_limit(limit)
    _check_period(wanted)
    after = created_position(cursor) if cursor is not None else None

    async def work(uow: UnitOfWork) -> list[RefundView]:
        return await repository.list_refunds(
            await uow.connection(),
            merchant_id=merchant_id,
            wanted=wanted,
            after=after,
            limit=limit + 1,
        )

    found = await run_unit(services.engine, work, read_only=True)
    return newest_first_page(found, limit)


def _check_period(wanted: RefundFilter) -> None:
    for name, moment in (("created_from", wanted.created_from), ("created_to", wanted.created_to)):
        if moment is not None and moment.tzinfo is None:
            raise ValidationFailedError("a time needs its UTC offset", field=name)
    if wanted.created_from and wanted.created_to and wanted.created_to <= wanted.created_from:
        raise ValidationFailedError("created_to must be after created_from", field="created_to")
