"""SQL of orders and payments shared by paying, orders, refunds and payment-code charges.

Nothing here commits (the service's unit does). Rows come back as views
(:mod:`ewallet.payments.views`, :class:`~ewallet.merchants.views.MerchantView`) or as the
small records below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.money import Money
from ewallet.merchants.views import KeyState, MerchantView
from ewallet.models.payments import OrderStatus
from ewallet.models.tables import merchant_api_keys as api_keys
from ewallet.models.tables import merchants, orders, payments
from ewallet.payments.views import OrderView, PaymentView


@dataclass(frozen=True, slots=True)
class MerchantAndOrderNumber:
    """The merchant, and its order with one ``out_trade_no`` if it has one."""

    merchant: MerchantView
    order_id: str | None
    order_request_hash: str | None
    # With ``key_id``: that API key's standing (None: no such key of this merchant).
    key: KeyState | None = None


async def order_view(
    conn: AsyncConnection, order_id: str, *, now: datetime, merchant_id: str | None = None
) -> OrderView | None:
    """The order with its merchant's name and refunded total; with ``merchant_id``, only
    if it belongs to that merchant (another merchant's order is simply not found)."""
    statement = (
        select(
            orders,
            merchants.c.name.label("merchant_name"),
            payments.c.refunded_amount.label("refunded_amount"),
            payments.c.fee.label("payment_fee"),
            payments.c.fee_returned.label("payment_fee_returned"),
        )
        .select_from(
            orders.join(merchants, merchants.c.id == orders.c.merchant_id).outerjoin(
                payments, payments.c.order_id == orders.c.id
            )
        )
        .where(orders.c.id == order_id)
    )
    if merchant_id is not None:
        statement = statement.where(orders.c.merchant_id == merchant_id)
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return OrderView.of(
        row,
        merchant_name=row.merchant_name,
        now=now,
        refunded_minor=row.refunded_amount or 0,
        fee_minor=(row.payment_fee or 0) - (row.payment_fee_returned or 0),
    )


async def merchant_view(conn: AsyncConnection, merchant_id: str) -> MerchantView | None:
    row = (await conn.execute(select(merchants).where(merchants.c.id == merchant_id))).first()
    return None if row is None else MerchantView.of(row)


async def merchant_and_order_number(
    conn: AsyncConnection, *, merchant_id: str, out_trade_no: str, key_id: str | None = None
) -> MerchantAndOrderNumber | None:
    """The merchant plus the id and request hash of its order with ``out_trade_no`` (both
    None when it has none), and with ``key_id`` that API key's standing, in one statement:
    the charge path reads them first and is CPU-bound on statements. None when there is no
    such merchant."""
    order = and_(orders.c.merchant_id == merchants.c.id, orders.c.out_trade_no == out_trade_no)
    joined = merchants.outerjoin(orders, order)
    columns: list[Any] = [
        merchants,
        orders.c.id.label("order_id"),
        orders.c.request_hash.label("order_request_hash"),
    ]
    if key_id is not None:
        key = and_(api_keys.c.id == key_id, api_keys.c.merchant_id == merchants.c.id)
        joined = joined.outerjoin(api_keys, key)
        columns += [
            api_keys.c.id.label("key_id"),
            api_keys.c.revoked_at.label("key_revoked_at"),
            api_keys.c.last_used_on.label("key_last_used_on"),
        ]
    statement = select(*columns).select_from(joined).where(merchants.c.id == merchant_id)
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    view = MerchantView.of(row)
    state = None
    if key_id is not None and row.key_id is not None:
        state = KeyState(row.key_revoked_at is not None, view.status, row.key_last_used_on)
    return MerchantAndOrderNumber(view, row.order_id, row.order_request_hash, state)


async def insert_order(
    conn: AsyncConnection,
    *,
    order_id: str,
    merchant_id: str,
    out_trade_no: str,
    amount: Money,
    subject: str,
    notify_url: str | None,
    request_hash: str,
    expires_at: datetime,
    now: datetime,
    paid_by: str | None = None,
) -> None:
    """Write a new order, awaiting payment until ``expires_at``; with ``paid_by`` (a
    payment id) already paid by it, for a caller that pays it in this same unit (a
    charge's own order: no claim to race for, one UPDATE saved)."""
    await conn.execute(
        insert(orders),
        {
            "id": order_id,
            "merchant_id": merchant_id,
            "out_trade_no": out_trade_no,
            "amount": amount.minor,
            "currency": amount.currency,
            "subject": subject,
            "notify_url": notify_url,
            "status": OrderStatus.AWAITING_PAYMENT if paid_by is None else OrderStatus.PAID,
            "request_hash": request_hash,
            "payment_id": paid_by,
            "expires_at": expires_at,
            "paid_at": None if paid_by is None else now,
            "closed_at": None,
            "created_at": now,
            "updated_at": now,
        },
    )


async def claim_order(
    conn: AsyncConnection, *, order_id: str, payment_id: str, now: datetime
) -> bool:
    """Mark the order paid if it still awaits payment and has not expired: of two payers
    racing for one order exactly one gets True. An order a card payment reserved while
    the bank answers (``reserved_by``, payments/card_funding) is that payment's only."""
    claimed = await conn.execute(
        update(orders)
        .where(
            orders.c.id == order_id,
            orders.c.status == OrderStatus.AWAITING_PAYMENT,
            orders.c.expires_at > now,
            or_(orders.c.reserved_by.is_(None), orders.c.reserved_by == payment_id),
        )
        .values(status=OrderStatus.PAID, payment_id=payment_id, paid_at=now, updated_at=now)
    )
    return bool(claimed.rowcount == 1)


async def expire_order(conn: AsyncConnection, *, order_id: str, now: datetime) -> bool:
    """End an order that still awaits payment at ``now`` (it then reads ``expired``, as at
    its own time): a payer who declines a payment-code charge ends its order this way."""
    ended = await conn.execute(
        update(orders)
        .where(
            orders.c.id == order_id,
            orders.c.status == OrderStatus.AWAITING_PAYMENT,
            orders.c.expires_at > now,
        )
        .values(expires_at=now, updated_at=now)
    )
    return bool(ended.rowcount == 1)


async def insert_payment(
    conn: AsyncConnection,
    *,
    payment_id: str,
    order: OrderView,
    user_id: str,
    ledger_transaction_id: str,
    request_key: str | None,
    now: datetime,
    fee: int = 0,
) -> None:
    """Write the payment of ``order`` (its whole amount, nothing refunded yet) and the
    merchant's ``fee`` on it (fen)."""
    await conn.execute(
        insert(payments),
        {
            "id": payment_id,
            "order_id": order.id,
            "merchant_id": order.merchant_id,
            "user_id": user_id,
            "amount": order.amount.minor,
            "refunded_amount": 0,
            "currency": order.amount.currency,
            "ledger_transaction_id": ledger_transaction_id,
            "fee": fee,
            "fee_returned": 0,
            "request_key": request_key,
            "created_at": now,
            "updated_at": now,
        },
    )


async def payment_view(
    conn: AsyncConnection, payment_id: str, *, user_id: str | None = None
) -> PaymentView | None:
    """The payment with its merchant's name and order subject; with ``user_id``, only if
    that user made it."""
    statement = (
        select(
            payments,
            merchants.c.name.label("merchant_name"),
            orders.c.subject.label("subject"),
        )
        .select_from(
            payments.join(merchants, merchants.c.id == payments.c.merchant_id).join(
                orders, orders.c.id == payments.c.order_id
            )
        )
        .where(payments.c.id == payment_id)
    )
    if user_id is not None:
        statement = statement.where(payments.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return PaymentView.of(row, merchant_name=row.merchant_name, subject=row.subject)


async def payment_id_for_request(
    conn: AsyncConnection, *, user_id: str, request_key: str
) -> str | None:
    """The id of the payment ``user_id``'s request with this key digest made, if any."""
    statement = select(payments.c.id).where(
        payments.c.user_id == user_id, payments.c.request_key == request_key
    )
    found: str | None = (await conn.execute(statement)).scalar()
    return found


async def payment_id_of_order(conn: AsyncConnection, *, order_id: str, user_id: str) -> str | None:
    statement = select(payments.c.id).where(
        payments.c.order_id == order_id, payments.c.user_id == user_id
    )
    found: str | None = (await conn.execute(statement)).scalar()
    return found
