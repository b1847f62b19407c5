"""The merchant API (``Authorization: Bearer mk_...``): orders, refunds, webhook log.

Every route depends on :data:`~ewallet.merchants.deps.CurrentMerchant` and sees only the
calling merchant's orders: another merchant's order id answers ``404 not_found``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ewallet.http.deps import ClockDep, EngineDep, LedgerDep, SettingsDep
from ewallet.http.idempotency import Idempotent
from ewallet.kit.amounts import AmountIn
from ewallet.kit.amounts import parse_amount as parse_wallet_amount
from ewallet.kit.money import Money
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.merchants.deps import CurrentMerchant, MerchantAuthenticated
from ewallet.payments import orders, refunds, webhooks
from ewallet.payments.errors import require_wallet_currency
from ewallet.payments.links import checkout_url
from ewallet.payments.schemas import (
    DeliveryOut,
    DeliveryPage,
    OrderCreatedOut,
    OrderCreateIn,
    OrderEnvelope,
    OrderOut,
    RefundEnvelope,
    RefundIn,
    RefundOut,
)

router = APIRouter(prefix="/v1/merchant", tags=["merchant API"])


def parse_amount(value: AmountIn, currency: str = "CNY") -> Money:
    """The amount of a merchant request: a currency no wallet holds first
    (``currency_not_supported``), then the amount's form (``invalid_amount``)."""
    require_wallet_currency(currency)
    return parse_wallet_amount(value, currency)


@router.post(
    "/orders",
    status_code=201,
    summary="Create an order (the same out_trade_no and content again: the order, 200)",
    responses={200: {"model": OrderCreatedOut, "description": "the order already existed"}},
)
async def create_order(
    *,
    body: OrderCreateIn,
    merchant: CurrentMerchant,
    response: Response,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> OrderCreatedOut:
    request = orders.OrderRequest(
        out_trade_no=body.out_trade_no,
        amount=parse_amount(body.amount, body.currency),
        subject=body.subject,
        notify_url=body.notify_url,
        expires_in=body.expires_in,
    )
    view, created = await orders.create_order(
        engine, clock=clock, settings=settings, merchant_id=merchant.merchant_id, request=request
    )
    if not created:
        response.status_code = 200
    url = checkout_url(settings, view.id)
    return OrderCreatedOut(order=OrderOut.of(view), qr_payload=url, checkout_url=url)


@router.get("/orders/{order_id}", summary="One of the merchant's orders")
async def get_order(
    order_id: str, merchant: CurrentMerchant, engine: EngineDep, clock: ClockDep
) -> OrderEnvelope:
    view = await orders.get_order(
        engine, clock=clock, order_id=order_id, merchant_id=merchant.merchant_id
    )
    return OrderEnvelope(order=OrderOut.of(view))


@router.post("/orders/{order_id}/close", summary="Close an unpaid order (idempotent)")
async def close_order(
    order_id: str, merchant: CurrentMerchant, engine: EngineDep, clock: ClockDep
) -> OrderEnvelope:
    view = await orders.close_order(
        engine, clock=clock, order_id=order_id, merchant_id=merchant.merchant_id
    )
    return OrderEnvelope(order=OrderOut.of(view))


@router.post(
    "/orders/{order_id}/refunds",
    status_code=201,
    summary="Refund a paid order, fully or partly (idempotent by out_refund_no: 200 again)",
    dependencies=[MerchantAuthenticated, Idempotent],
    responses={200: {"model": RefundEnvelope, "description": "the refund already existed"}},
)
async def refund_order(
    *,
    order_id: str,
    body: RefundIn,
    merchant: CurrentMerchant,
    response: Response,
    engine: EngineDep,
    ledger: LedgerDep,
    clock: ClockDep,
) -> RefundEnvelope:
    refund, order, created = await refunds.refund_order(
        engine,
        ledger=ledger,
        clock=clock,
        merchant_id=merchant.merchant_id,
        order_id=order_id,
        amount=parse_amount(body.amount),
        out_refund_no=body.out_refund_no,
    )
    if not created:
        response.status_code = 200
    return RefundEnvelope(refund=RefundOut.of(refund), order=OrderOut.of(order))


@router.get("/webhook-deliveries", summary="Webhook delivery attempts, newest first")
async def webhook_deliveries(
    merchant: CurrentMerchant,
    engine: EngineDep,
    order_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DeliveryPage:
    page = await webhooks.list_deliveries(
        engine, merchant_id=merchant.merchant_id, order_id=order_id, limit=limit, cursor=cursor
    )
    return DeliveryPage(
        items=[DeliveryOut.of(item) for item in page.items], next_cursor=page.next_cursor
    )
