"""Merchant webhooks: queued with the change, signed and delivered by the outbox worker.

An order's change (paid, refunded, closed) writes a ``merchant.webhook`` outbox event in the
same transaction (:func:`queue_order_event`), with the exact body to send; so every retry
sends the same bytes, and no webhook leaves for a change that rolled back. The handler
(:mod:`ewallet.payments.jobs`) calls :func:`deliver`, which signs each attempt
(:mod:`~ewallet.payments.webhooks.signing`), posts it to the order's ``notify_url`` (else the
merchant's ``webhook_url``) -- at an address checked once and pinned
(:mod:`~ewallet.payments.webhooks.destinations`,
:mod:`~ewallet.payments.webhooks.pinned_transport`), never following a redirect -- writes
one ``webhook_deliveries`` row per attempt, and raises on anything but a 2xx (a 3xx
included): the relay then retries with exponential back-off (``ewallet.worker.relay``)
until the merchant answers 2xx or the attempts run out. Delivery is at least once:
merchants deduplicate by the event id (``Wallet-Event-Id``, also ``id`` in the body).
"""

from __future__ import annotations

import json
import time
from typing import Any, Final

import httpx

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.merchants.service import webhook_signing
from ewallet.payments.webhooks import repository
from ewallet.payments.webhooks.destinations import (
    DestinationError,
    Resolver,
    resolve_destination,
    system_resolver,
)
from ewallet.payments.webhooks.pinned_transport import pinned_client
from ewallet.payments.webhooks.signing import SIGNATURE_HEADER, sign
from ewallet.payments.webhooks.views import DeliveryView
from ewallet.services import Services
from ewallet.worker.outbox import enqueue

WEBHOOK_TOPIC: Final = "merchant.webhook"


class WebhookRejectedError(RuntimeError):
    """The merchant's endpoint did not answer 2xx (or could not be reached): retry later."""


def delivery_failure(failure: httpx.HTTPError) -> str:
    """What the merchant's delivery log says about a failed request: the kind of failure,
    never httpx's message (which can name the address connected to)."""
    if isinstance(failure, httpx.TimeoutException):
        return "unreachable: timed out"
    if isinstance(failure, httpx.ConnectError | httpx.NetworkError):
        return "unreachable: the connection failed"
    if isinstance(failure, httpx.ProtocolError):
        return "failed: the answer was not valid HTTP"
    return "failed: the request could not be completed"


async def queue_order_event(
    uow: UnitOfWork,
    *,
    clock: Clock,
    merchant_id: str,
    order_id: str,
    url: str | None,
    event_type: str,
    data: dict[str, Any],
) -> str | None:
    """Queue ``event_type`` for the merchant in the caller's unit (a step of the order's
    use case, so it commits or rolls back with the change); None when it has no URL."""
    if url is None:
        return None
    event_id = new_id("evt")
    body = json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "created_at": clock.now().isoformat(),
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    await enqueue(
        uow.session,
        topic=WEBHOOK_TOPIC,
        payload={
            "event_id": event_id,
            "event_type": event_type,
            "merchant_id": merchant_id,
            "order_id": order_id,
            "url": url,
            "body": body,
        },
        clock=clock,
    )
    return event_id


async def deliver(
    services: Services,
    payload: dict[str, Any],
    *,
    attempt: int,
    resolve: Resolver = system_resolver,
) -> None:
    """Send one attempt of a queued event (``payload`` as :func:`queue_order_event` wrote
    it) and log it; raise :class:`WebhookRejectedError` unless the merchant answered 2xx.

    In order: the merchant's secret signs the body; the URL's host is resolved once
    (``resolve``) and refused unless allowed (logged as ``destination not allowed``, no
    request made); the request goes to the checked addresses only, with the settings'
    webhook timeout; a failure is logged by its kind, never with httpx's message.
    """
    settings, clock = services.settings, services.clock
    merchant_id, body, url = payload["merchant_id"], payload["body"], payload["url"]
    signing = await webhook_signing(services, merchant_id=merchant_id)
    timestamp = int(clock.now().timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(signing.secret, timestamp, body),
        "Wallet-Event-Id": payload["event_id"],
        "Wallet-Event-Type": payload["event_type"],
        "User-Agent": "ewallet-webhooks/1",
    }
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        # Resolved once: the client connects to these checked addresses only.
        destination = await resolve_destination(url, settings, resolve=resolve)
    except DestinationError as refusal:
        # The merchant's log says "not allowed"; which addresses the name resolved to is
        # for our logs only. The outbox gives up after its attempts.
        elapsed_ms = int((time.monotonic() - started) * 1000)
        await _log(services, payload, attempt, status=None, error=refusal.public, ms=elapsed_ms)
        raise WebhookRejectedError(f"webhook {payload['event_id']}: {refusal}") from refusal
    internal: str | None = None
    try:
        timeout = settings.webhook_timeout_seconds
        async with pinned_client(destination, timeout=timeout) as client:
            response = await client.post(url, content=body.encode(), headers=headers)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"answered HTTP {status}"
    except httpx.HTTPError as failure:
        # httpx's message may name the address it connected to: logs only.
        error = delivery_failure(failure)
        internal = f"{type(failure).__name__}: {failure}"
    elapsed_ms = int((time.monotonic() - started) * 1000)
    await _log(services, payload, attempt, status=status, error=error, ms=elapsed_ms)
    if error is not None:
        raise WebhookRejectedError(f"webhook {payload['event_id']} to {url}: {internal or error}")


async def _log(
    services: Services,
    payload: dict[str, Any],
    attempt: int,
    *,
    status: int | None,
    error: str | None,
    ms: int,
) -> None:
    async def work(uow: UnitOfWork) -> None:
        await repository.insert_delivery(
            await uow.connection(),
            merchant_id=payload["merchant_id"],
            event_id=payload["event_id"],
            event_type=payload["event_type"],
            order_id=payload["order_id"],
            url=payload["url"],
            attempt=attempt,
            status_code=status,
            error=error,
            duration_ms=ms,
            now=services.clock.now(),
        )

    await run_unit(services.engine, work)


async def list_deliveries(
    services: Services,
    merchant_id: str,
    *,
    order_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryView]:
    """The merchant's delivery attempts (of ``order_id``), newest first, a page at a time
    (``validation_error`` for a limit out of range)."""
    check_limit(limit)
    before = decode_cursor(cursor).get("before") if cursor else None
    if before is not None and not isinstance(before, int):
        before = None

    async def work(uow: UnitOfWork) -> list[DeliveryView]:
        return await repository.deliveries_of(
            await uow.connection(),
            merchant_id=merchant_id,
            order_id=order_id,
            before=before,
            limit=limit + 1,
        )

    found = await run_unit(services.engine, work, read_only=True)
    items = found[:limit]
    next_cursor = encode_cursor({"before": items[-1].id}) if len(found) > limit else None
    return Page(items=items, next_cursor=next_cursor)
