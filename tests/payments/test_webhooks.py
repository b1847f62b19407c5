"""Merchant webhooks against a real HTTP receiver (uvicorn on 127.0.0.1, a free port,
``webhook_receiver``) that fails its first two deliveries: retried with back-off, signed,
logged, readable."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from dataclasses import replace
from datetime import timedelta

import pytest

from ewallet.bootstrap.outbox import outbox_registry
from ewallet.config import Environment
from ewallet.payments.webhooks.destinations import NOT_ALLOWED, private_addresses_allowed
from ewallet.payments.webhooks.signing import verify_signature
from ewallet.worker import OutboxRelay
from tests.fixtures.shop import Shop
from tests.payments.webhook_receiver import Receiver, receiver

__all__ = ["receiver"]  # the fixture


def relay_for(shop: Shop) -> OutboxRelay:
    # The handlers see the test's settings as they are now (a test may change them).
    registry = outbox_registry(replace(shop.services, settings=shop.settings))
    return OutboxRelay(shop.engine, registry, shop.clock, worker_id="webhook-test")


async def test_paid_webhook_is_retried_until_acknowledged_and_signed(
    shop: Shop, receiver: Receiver
) -> None:
    merchant = await shop.merchant(webhook_url=f"{receiver.url}/default")
    user = await shop.customer("+8613900000401", "50.00")
    order_id = await shop.order(merchant, "12.30", notify_url=f"{receiver.url}/orders")
    assert (await shop.pay(user, order_id)).status_code == 201
    relay = relay_for(shop)

    assert await relay.drain() == 1  # attempt 1: 500
    assert await relay.drain() == 0  # not due again yet: backing off (1-2 s)
    shop.clock.advance(timedelta(seconds=2))
    assert await relay.drain() == 1  # attempt 2: 500
    shop.clock.advance(timedelta(seconds=1.5))
    assert await relay.drain() == 0  # the second wait is longer (2-4 s)
    shop.clock.advance(timedelta(seconds=2.5))
    assert await relay.drain() == 1  # attempt 3: 200
    shop.clock.advance(timedelta(hours=2))
    assert await relay.drain() == 0  # acknowledged: never sent again

    assert len(receiver.calls) == 3
    assert {call["path"] for call in receiver.calls} == {"/orders"}  # notify_url wins
    bodies = {call["body"] for call in receiver.calls}
    assert len(bodies) == 1  # every retry sends the same bytes
    body = bodies.pop()
    event = json.loads(body)
    assert event["type"] == "order.paid"
    assert event["data"]["order"]["id"] == order_id
    assert event["data"]["order"]["status"] == "paid"
    now = int(shop.clock.now().timestamp())
    for call in receiver.calls:
        header = call["headers"]["wallet-signature"]
        assert call["headers"]["wallet-event-id"] == event["id"]
        timestamp, mac = (part.split("=", 1)[1] for part in header.split(","))
        expected = hmac.new(
            merchant.webhook_secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(mac, expected)
        assert verify_signature(merchant.webhook_secret, header, body, now=int(timestamp))
    assert not verify_signature("whsec_wrong", header, body, now=now)
    assert not verify_signature(merchant.webhook_secret, header, body + " ", now=now)

    log = await shop.client.get("/v1/merchant/webhook-deliveries", headers=shop.key(merchant))
    assert log.status_code == 200
    items = log.json()["items"]
    assert [(i["attempt"], i["succeeded"], i["status_code"]) for i in items] == [
        (3, True, 200),
        (2, False, 500),
        (1, False, 500),
    ]
    assert items[0]["event_type"] == "order.paid"
    other = await shop.merchant("Other")
    theirs = await shop.client.get("/v1/merchant/webhook-deliveries", headers=shop.key(other))
    assert theirs.json()["items"] == []


async def test_closed_and_refunded_events_go_to_the_merchants_url(
    shop: Shop, receiver: Receiver
) -> None:
    receiver.failures = 0
    merchant = await shop.merchant(webhook_url=f"{receiver.url}/hooks")
    user = await shop.customer("+8613900000402", "50.00")
    closed = await shop.order(merchant, "1.00", out_trade_no="C-1")
    await shop.client.post(f"/v1/merchant/orders/{closed}/close", headers=shop.key(merchant))
    paid = await shop.order(merchant, "9.00", out_trade_no="C-2")
    assert (await shop.pay(user, paid)).status_code == 201
    assert (await shop.refund(merchant, paid, "4.00", "RF-1")).status_code == 201
    assert await relay_for(shop).drain() == 4  # three webhooks and the refund's SMS
    events = [json.loads(call["body"]) for call in receiver.calls]
    # Different orders' webhooks may overlap; one order's arrive in the order they happened.
    by_order = [(e["data"]["order"]["id"], e["type"]) for e in events]
    assert [kind for order, kind in by_order if order == closed] == ["order.closed"]
    assert [kind for order, kind in by_order if order == paid] == ["order.paid", "order.refunded"]
    [refunded] = [e for e in events if e["type"] == "order.refunded"]
    assert refunded["data"]["refund"]["amount"]["amount"] == "4.00"
    assert {call["path"] for call in receiver.calls} == {"/hooks"}


async def test_an_unreachable_endpoint_is_logged_and_retried(shop: Shop) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    merchant = await shop.merchant(webhook_url=f"http://127.0.0.1:{port}/gone")
    order_id = await shop.order(merchant, "1.00")
    await shop.client.post(f"/v1/merchant/orders/{order_id}/close", headers=shop.key(merchant))
    assert await relay_for(shop).drain() == 1
    log = await shop.client.get("/v1/merchant/webhook-deliveries", headers=shop.key(merchant))
    (item,) = log.json()["items"]
    assert item["succeeded"] is False
    assert item["status_code"] is None
    assert item["error"]


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "localhost"])
async def test_webhooks_to_private_addresses_are_refused_when_not_allowed(
    shop: Shop, receiver: Receiver, host: str
) -> None:
    shop.settings = shop.settings.model_copy(update={"webhook_allow_private_addresses": False})
    port = receiver.url.rsplit(":", 1)[1]
    merchant = await shop.merchant(webhook_url=f"http://{host}:{port}/hooks")
    order_id = await shop.order(merchant, "1.00")
    await shop.client.post(f"/v1/merchant/orders/{order_id}/close", headers=shop.key(merchant))
    assert await relay_for(shop).drain() == 1
    assert receiver.calls == []  # nothing left the wallet
    log = await shop.client.get("/v1/merchant/webhook-deliveries", headers=shop.key(merchant))
    (item,) = log.json()["items"]
    assert item["succeeded"] is False
    # The merchant learns that the destination is refused, not what the name resolved to.
    assert item["error"] == NOT_ALLOWED
    assert "127.0.0.1" not in item["error"]
    assert "::1" not in item["error"]


def test_private_addresses_are_allowed_in_development_only(shop: Shop) -> None:
    development = shop.settings.model_copy(update={"webhook_allow_private_addresses": None})
    assert private_addresses_allowed(development)
    production = development.model_copy(update={"env": Environment.PRODUCTION})
    assert not private_addresses_allowed(production)
    assert private_addresses_allowed(
        production.model_copy(update={"webhook_allow_private_addresses": True})
    )
