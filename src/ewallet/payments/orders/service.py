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

from sqlalchemy.exc import IntegrityError

from ewallet.config import Settings
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.models.payments import OrderStatus
from ewallet.payments import repository as shared
from ewallet.payments.errors import (
    OrderNotClosableError,
    OutTradeNoConflictError,
    require_wallet_currency,
)
from ewallet.payments.orders import repository
from ewallet.payments.orders.views import OrderFilter
from ewallet.payments.schemas import order_document
from ewallet.payments.views import OrderView
from ewallet.payments.webhooks.service import queue_order_event
from ewallet.services import Services

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
    services: Services, merchant_id: str, *, request: OrderRequest
) -> tuple[OrderView, bool]:
    """The order for ``request``, and whether this call created it (False: it existed).

    Refusals, in order, with nothing written: an amount in a currency no wallet holds
    (``currency_not_supported``: nobody could pay it), an ``expires_in`` out of range
    (``validation_error``), the same ``out_trade_no`` with other content
    (``out_trade_no_conflict``)."""
    require_wallet_currency(request.amount.currency)
    lifetime = timedelta(seconds=expiry_seconds(services.settings, request.expires_in))
    request_hash = request.digest()

    async def work(uow: UnitOfWork) -> tuple[OrderView, bool]:
        conn = await uow.connection()
        now = services.clock.now()
        existing = await repository.order_by_out_trade_no(
            conn, merchant_id=merchant_id, out_trade_no=request.out_trade_no
        )
        if existing is not None:
            if existing.request_hash != request_hash:
                raise OutTradeNoConflictError(
                    "this out_trade_no was already used for an order with other content"
                )
            view = await shared.order_view(conn, existing.order_id, now=now)
            assert view is not None
            return view, False
        order_id = new_id("ord")
        await shared.insert_order(
            conn,
            order_id=order_id,
            merchant_id=merchant_id,
            out_trade_no=request.out_trade_no,
            amount=request.amount,
            subject=request.subject,
            notify_url=request.notify_url,
            request_hash=request_hash,
            expires_at=now + lifetime,
            now=now,
        )
        view = await shared.order_view(conn, order_id, now=now)
        assert view is not None
        return view, True

    try:
        return await run_unit(services.engine, work)
    except IntegrityError:  # the same number created concurrently: answer as a repeat
        return await run_unit(services.engine, work)


async def get_order(services: Services, merchant_id: str | None, *, order_id: str) -> OrderView:
    """The order; with ``merchant_id`` only that merchant's (else ``not_found``); None
    reads any order (the checkout page, which shows any order to whoever has its link)."""

    async def work(uow: UnitOfWork) -> OrderView | None:
        conn = await uow.connection()
        return await shared.order_view(
            conn, order_id, now=services.clock.now(), merchant_id=merchant_id
        )

    view = await run_unit(services.engine, work, read_only=True)
    if view is None:
        raise NotFoundError("no such order")
    return view


async def list_orders(
    services: Services,
    merchant_id: str,
    *,
    wanted: OrderFilter,
    limit: int,
    cursor: str | None = None,
) -> Page[OrderView]:
    """The merchant's orders newest first, kept by ``wanted``; ``next_cursor`` when more
    remain. The cursor is the last item's position ``(created_at, id)``, so orders made
    while a client pages (they sort first) neither repeat nor push items past a page.
    Refusal: ``validation_error`` (a limit out of range, a malformed cursor, a period or
    amount range that ends before it starts, a time without its offset)."""
    limit = check_limit(limit)
    _check_filter(wanted)
    after = created_position(cursor) if cursor is not None else None

    async def work(uow: UnitOfWork) -> list[OrderView]:
        return await repository.list_orders(
            await uow.connection(),
            merchant_id=merchant_id,
            wanted=wanted,
            after=after,
            limit=limit + 1,
            now=services.clock.now(),
        )

    found = await run_unit(services.engine, work, read_only=True)
    return newest_first_page(found, limit)


def _check_filter(wanted: OrderFilter) -> None:
    for name, moment in (("created_from", wanted.created_from), ("created_to", wanted.created_to)):
        if moment is not None and moment.tzinfo is None:
            raise ValidationFailedError("a time needs its UTC offset", field=name)
    if wanted.created_from and wanted.created_to and wanted.created_to <= wanted.created_from:
        raise ValidationFailedError("created_to must be after created_from", field="created_to")
    low, high = wanted.amount_min, wanted.amount_max
    if low is not None and high is not None and high < low:
        raise ValidationFailedError("amount_max is below amount_min", field="amount_max")


async def close_order(services: Services, merchant_id: str, *, order_id: str) -> OrderView:
    """Close an unpaid (or expired) order and queue ``order.closed`` for the merchant's
    webhook; closing a closed order again changes nothing. Refusals: ``not_found`` (not
    this merchant's), ``order_not_closable`` (paid: refund it instead)."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> OrderView:
        conn = await uow.connection()
        now = clock.now()
        closed = await repository.close_order(
            conn, order_id=order_id, merchant_id=merchant_id, now=now
        )
        view = await shared.order_view(conn, order_id, now=now, merchant_id=merchant_id)
        if view is None:
            raise NotFoundError("no such order")
        if closed:
            await queue_order_event(
                uow,
                clock=clock,
                merchant_id=merchant_id,
                order_id=order_id,
                url=await webhook_url_for(uow, view),
                event_type="order.closed",
                data={"order": order_document(view)},
            )
        elif view.status != OrderStatus.CLOSED:
            raise OrderNotClosableError(
                "the order is under risk review; it is paid or closed when staff decide"
                if view.status == OrderStatus.UNDER_REVIEW
                else "the order was paid; refund it instead"
            )
        return view

    return await run_unit(services.engine, work)


async def webhook_url_for(uow: UnitOfWork, view: OrderView) -> str | None:
    """Where the order's events go: its notify_url, else the merchant's webhook_url."""
    if view.notify_url is not None:
        return view.notify_url
    merchant = await shared.merchant_view(await uow.connection(), view.merchant_id)
    return None if merchant is None else merchant.webhook_url
