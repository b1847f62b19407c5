"""SQL of payments held for a risk review (``held_payments``) and of their orders' states.

Nothing here commits (the paying unit, or the unit that decides the review, does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.models.identity import User
from ewallet.models.payments import HeldPaymentState, OrderStatus, PaymentStatus
from ewallet.models.tables import held_payments, merchants, orders, risk_reviews
from ewallet.payments.entry import PaymentAccounts
from ewallet.payments.views import OrderView, PaymentView


@dataclass(frozen=True, slots=True)
class HeldPayment:
    """A ``held_payments`` row, as the review's completion needs it."""

    payment_id: str
    order_id: str
    merchant_id: str
    user_id: str
    amount: Money
    fee: int
    request_key: str | None
    hold_id: str
    accounts: PaymentAccounts
    state: str


async def find_user(session: AsyncSession, user_id: str) -> User | None:
    """The payer's row as it is now (re-read: a freeze may have come since), not locked."""
    return await session.get(User, user_id, populate_existing=True)


async def insert_held(
    conn: AsyncConnection,
    *,
    payment_id: str,
    order: OrderView,
    user_id: str,
    fee: int,
    channel: str,
    auth: str,
    request_key: str | None,
    hold_id: str,
    review_id: str | None,
    accounts: PaymentAccounts,
    now: datetime,
) -> None:
    """Write the payment of ``order`` held for review (state ``under_review``)."""
    await conn.execute(
        insert(held_payments).values(
            payment_id=payment_id,
            order_id=order.id,
            user_id=user_id,
            amount=order.amount.minor,
            currency=order.amount.currency,
            fee=fee,
            channel=channel,
            auth=auth,
            request_key=request_key,
            hold_id=hold_id,
            review_id=review_id,
            wallet_account_id=accounts.wallet,
            merchant_account_id=accounts.merchant,
            fee_account_id=accounts.fee_revenue,
            state=HeldPaymentState.UNDER_REVIEW,
            created_at=now,
            decided_at=None,
        )
    )


async def hold_order(conn: AsyncConnection, *, order_id: str, now: datetime) -> None:
    """The order this unit just claimed waits for the review: ``under_review`` (with the
    payment's id the claim wrote), not paid."""
    await conn.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.status == OrderStatus.PAID)
        .values(status=OrderStatus.UNDER_REVIEW, paid_at=None, updated_at=now)
    )


async def finish_order(
    conn: AsyncConnection, *, order_id: str, approved: bool, now: datetime
) -> bool:
    """The reviewed order becomes ``paid`` (approved) or ``closed`` (rejected); False if
    it was not under review."""
    values: dict[str, object] = (
        {"status": OrderStatus.PAID, "paid_at": now}
        if approved
        else {"status": OrderStatus.CLOSED, "closed_at": now}
    )
    done = await conn.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.status == OrderStatus.UNDER_REVIEW)
        .values(**values, updated_at=now)
    )
    return bool(done.rowcount == 1)


async def find_held(conn: AsyncConnection, payment_id: str) -> HeldPayment | None:
    row = (
        await conn.execute(
            select(held_payments, orders.c.merchant_id)
            .join(orders, orders.c.id == held_payments.c.order_id)
            .where(held_payments.c.payment_id == payment_id)
        )
    ).first()
    if row is None:
        return None
    return HeldPayment(
        payment_id=row.payment_id,
        order_id=row.order_id,
        merchant_id=row.merchant_id,
        user_id=row.user_id,
        amount=Money(row.amount, row.currency),
        fee=row.fee,
        request_key=row.request_key,
        hold_id=row.hold_id,
        accounts=PaymentAccounts(
            row.wallet_account_id, row.merchant_account_id, row.fee_account_id
        ),
        state=row.state,
    )


async def decide_held(
    conn: AsyncConnection, payment_id: str, *, state: HeldPaymentState, now: datetime
) -> bool:
    """Leave ``under_review`` for ``state``; False if it had left it already."""
    done = await conn.execute(
        update(held_payments)
        .where(
            held_payments.c.payment_id == payment_id,
            held_payments.c.state == HeldPaymentState.UNDER_REVIEW,
        )
        .values(state=state, decided_at=now)
    )
    return bool(done.rowcount == 1)


async def held_view(
    conn: AsyncConnection,
    *,
    payment_id: str | None = None,
    user_id: str,
    request_key: str | None = None,
    order_id: str | None = None,
) -> PaymentView | None:
    """``user_id``'s held payment (by id, request key or order) as the payer sees it:
    ``under_review`` with its review's due time, or ``rejected``; None for none, another
    user's, or one approved (its ``payments`` row tells it from then on)."""
    statement = (
        select(
            held_payments,
            orders.c.merchant_id,
            orders.c.subject,
            merchants.c.name.label("merchant_name"),
            risk_reviews.c.due_at.label("review_due_at"),
        )
        .select_from(
            held_payments.join(orders, orders.c.id == held_payments.c.order_id)
            .join(merchants, merchants.c.id == orders.c.merchant_id)
            .outerjoin(risk_reviews, risk_reviews.c.id == held_payments.c.review_id)
        )
        .where(
            held_payments.c.user_id == user_id,
            held_payments.c.state != HeldPaymentState.APPROVED,
        )
    )
    if payment_id is not None:
        statement = statement.where(held_payments.c.payment_id == payment_id)
    if request_key is not None:
        statement = statement.where(held_payments.c.request_key == request_key)
    if order_id is not None:
        statement = statement.where(held_payments.c.order_id == order_id)
    row = (await conn.execute(statement.limit(1))).first()
    if row is None:
        return None
    waiting = row.state == HeldPaymentState.UNDER_REVIEW
    return PaymentView(
        id=row.payment_id,
        order_id=row.order_id,
        merchant_id=row.merchant_id,
        merchant_name=row.merchant_name,
        subject=row.subject,
        user_id=row.user_id,
        amount=Money(row.amount, row.currency),
        refunded=Money(0, row.currency),
        status=PaymentStatus.UNDER_REVIEW if waiting else PaymentStatus.REJECTED,
        ledger_transaction_id=None,
        created_at=as_utc(row.created_at),
        fee=Money(row.fee, row.currency),
        review_due_at=as_utc(row.review_due_at) if waiting and row.review_due_at else None,
    )
