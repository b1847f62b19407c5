"""Merchant orders: create (idempotent by ``out_trade_no``), read, close.

``out_trade_no`` is unique per merchant (a database constraint). Sending the same number
with the same content answers the existing order -- a merchant whose create timed out
simply sends it again; the same number with other content is ``out_trade_no_conflict``.
An order is payable until ``expires_at`` (default 15 min, at most 2 h); closing stops it
earlier and tells the merchant's webhook.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.payments import repository as repo
from ewallet.payments.errors import (
    OrderNotClosableError,
    OutTradeNoConflictError,
    require_wallet_currency,
)
from ewallet.payments.schemas import order_document
from ewallet.payments.views import OrderView
from ewallet.payments.webhooks import queue_order_event

MIN_EXPIRY_SECONDS = 60


@dataclass(frozen=True, slots=True)
class OrderRequest:
    out_trade_no: str
    amount: Money
    subject: str
    notify_url: str | None
    expires_in: int | None

    def digest(self) -> str:
        content = [
            self.amount.minor,
            self.amount.currency,
            self.subject,
            self.notify_url,
            self.expires_in,
        ]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def expiry_seconds(settings: Settings, expires_in: int | None) -> int:
    if expires_in is None:
        return settings.order_default_expiry_seconds
    if not MIN_EXPIRY_SECONDS <= expires_in <= settings.order_max_expiry_seconds:
        raise ValidationFailedError(
            f"expires_in must be {MIN_EXPIRY_SECONDS}-{settings.order_max_expiry_seconds} seconds"
        )
    return expires_in


async def create_order(
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    merchant_id: str,
    request: OrderRequest,
) -> tuple[OrderView, bool]:
    """The order for ``request``, and whether this call created it (False: it existed).

    An amount in a currency no wallet holds is ``currency_not_supported``: nobody could pay
    it, and nothing is written."""
    require_wallet_currency(request.amount.currency)
    lifetime = timedelta(seconds=expiry_seconds(settings, request.expires_in))
    request_hash = request.digest()

    async def work(uow: UnitOfWork) -> tuple[OrderView, bool]:
        conn = await uow.connection()
        now = clock.now()
        existing = await repo.order_by_out_trade_no(
            conn, merchant_id=merchant_id, out_trade_no=request.out_trade_no
        )
        if existing is not None:
            if existing.request_hash != request_hash:
                raise OutTradeNoConflictError(
                    "this out_trade_no was already used for an order with other content"
                )
            view = await repo.order_view(conn, existing.id, now=now)
            assert view is not None
            return view, False
        order_id = new_id("ord")
        await conn.execute(
            insert(repo.orders).values(
                id=order_id,
                merchant_id=merchant_id,
                out_trade_no=request.out_trade_no,
                amount=request.amount.minor,
                currency=request.amount.currency,
                subject=request.subject,
                notify_url=request.notify_url,
                status="awaiting_payment",
                request_hash=request_hash,
                payment_id=None,
                expires_at=now + lifetime,
                paid_at=None,
                closed_at=None,
                created_at=now,
                updated_at=now,
            )
        )
        view = await repo.order_view(conn, order_id, now=now)
        assert view is not None
        return view, True

    try:
        return await run_unit(engine, work)
    except IntegrityError:  # the same number created concurrently: answer as a repeat
        return await run_unit(engine, work)


async def get_order(
    engine: AsyncEngine, *, clock: Clock, order_id: str, merchant_id: str | None
) -> OrderView:
    """The order; with ``merchant_id`` only that merchant's (else ``not_found``)."""

    async def work(uow: UnitOfWork) -> OrderView | None:
        conn = await uow.connection()
        return await repo.order_view(conn, order_id, now=clock.now(), merchant_id=merchant_id)

    view = await run_unit(engine, work, read_only=True)
    if view is None:
        raise NotFoundError("no such order")
    return view


async def close_order(
    engine: AsyncEngine, *, clock: Clock, order_id: str, merchant_id: str
) -> OrderView:
    """Close an unpaid (or expired) order; closing a closed order again changes nothing."""

    async def work(uow: UnitOfWork) -> OrderView:
        conn = await uow.connection()
        now = clock.now()
        # The conditional UPDATE decides a race with a payment: one of them wins the row.
        closed = await conn.execute(
            update(repo.orders)
            .where(
                repo.orders.c.id == order_id,
                repo.orders.c.merchant_id == merchant_id,
                repo.orders.c.status == "awaiting_payment",
            )
            .values(status="closed", closed_at=now, updated_at=now)
        )
        view = await repo.order_view(conn, order_id, now=now, merchant_id=merchant_id)
        if view is None:
            raise NotFoundError("no such order")
        if closed.rowcount == 1:
            await queue_order_event(
                uow,
                clock=clock,
                merchant_id=merchant_id,
                order_id=order_id,
                url=await webhook_url_for(uow, view),
                event_type="order.closed",
                data={"order": order_document(view)},
            )
        elif view.status != "closed":
            raise OrderNotClosableError("the order was paid; refund it instead")
        return view

    return await run_unit(engine, work)


async def webhook_url_for(uow: UnitOfWork, view: OrderView) -> str | None:
    """Where the order's events go: its notify_url, else the merchant's webhook_url."""
    if view.notify_url is not None:
        return view.notify_url
    merchant = await repo.merchant_row(await uow.connection(), view.merchant_id)
    return None if merchant is None else merchant.webhook_url
