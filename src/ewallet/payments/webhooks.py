"""Merchant webhooks: queued with the change, signed and delivered by the outbox worker.

An order's change (paid, refunded, closed) writes a ``merchant.webhook`` outbox event in the
same transaction, with the exact body to send; so every retry sends the same bytes, and no
webhook leaves for a change that rolled back. The handler signs each attempt::

    Wallet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

posts it to the order's ``notify_url`` (else the merchant's ``webhook_url``) -- at an address
checked once and pinned (``webhook_destinations``, ``pinned_transport``), never following a
redirect -- writes one ``webhook_deliveries`` row per attempt, and raises on anything but a
2xx (a 3xx included): the relay then retries with exponential back-off
(``ewallet.worker.relay``) until the merchant answers 2xx or the attempts run out. Delivery
is at least once: merchants deduplicate by the event id (``Wallet-Event-Id``, also ``id`` in
the body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.merchants.service import webhook_secret
from ewallet.models.tables import webhook_deliveries as deliveries
from ewallet.payments.pinned_transport import pinned_client
from ewallet.payments.webhook_destinations import (
    DestinationError,
    Resolver,
    resolve_destination,
    system_resolver,
)
from ewallet.security.context import SecurityContext
from ewallet.worker.outbox import enqueue
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry

WEBHOOK_TOPIC: Final = "merchant.webhook"
SIGNATURE_HEADER: Final = "Wallet-Signature"


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


def sign(secret: str, timestamp: int, body: str) -> str:
    """The ``Wallet-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: str, header: str, body: str, *, now: int, tolerance: int = 300
) -> bool:
    """What a merchant does with a delivery (docs/merchant-api.md has the same in prose)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    fresh = abs(now - timestamp) <= tolerance
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))


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
    """Queue ``event_type`` for the merchant in the caller's unit; None when it has no URL."""
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


@dataclass
class WebhookSender:
    """The ``merchant.webhook`` handler; the engine is made on first use when not lent."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine | None = None
    security: SecurityContext | None = None
    resolve: Resolver = system_resolver  # tests answer for the merchant's DNS
    _own_engine: bool = field(default=False, init=False)

    def _resources(self) -> tuple[AsyncEngine, SecurityContext]:
        if self.engine is None:
            self.engine = make_engine(self.settings.database_url, pool_size=2)
            self._own_engine = True
        if self.security is None:
            self.security = SecurityContext.from_settings(self.settings)
        return self.engine, self.security

    async def __call__(self, event: DeliveredEvent) -> None:
        engine, security = self._resources()
        payload = event.payload
        merchant_id, body, url = payload["merchant_id"], payload["body"], payload["url"]
        secret, _ = await webhook_secret(engine, security=security, merchant_id=merchant_id)
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            "Wallet-Event-Id": payload["event_id"],
            "Wallet-Event-Type": payload["event_type"],
            "User-Agent": "ewallet-webhooks/1",
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            # Resolved once: the client connects to these checked addresses only.
            destination = await resolve_destination(url, self.settings, resolve=self.resolve)
        except DestinationError as refusal:
            # The merchant's log says "not allowed"; which addresses the name resolved to is
            # for our logs only. The outbox gives up after its attempts.
            elapsed_ms = int((time.monotonic() - started) * 1000)
            await self._log(event, status=None, error=refusal.public, duration_ms=elapsed_ms)
            raise WebhookRejectedError(f"webhook {payload['event_id']}: {refusal}") from refusal
        internal: str | None = None
        try:
            timeout = self.settings.webhook_timeout_seconds
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
        await self._log(event, status=status, error=error, duration_ms=elapsed_ms)
        if error is not None:
            raise WebhookRejectedError(
                f"webhook {payload['event_id']} to {url}: {internal or error}"
            )

    async def _log(
        self, event: DeliveredEvent, *, status: int | None, error: str | None, duration_ms: int
    ) -> None:
        engine, _ = self._resources()
        payload = event.payload

        async def work(uow: UnitOfWork) -> None:
            conn = await uow.connection()
            await conn.execute(
                insert(deliveries).values(
                    merchant_id=payload["merchant_id"],
                    event_id=payload["event_id"],
                    event_type=payload["event_type"],
                    order_id=payload["order_id"],
                    url=payload["url"],
                    attempt=event.attempts,
                    succeeded=error is None,
                    status_code=status,
                    error=error,
                    duration_ms=duration_ms,
                    created_at=self.clock.now(),
                )
            )

        await run_unit(engine, work)


def register(
    registry: HandlerRegistry,
    *,
    settings: Settings,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
) -> None:
    """Add the ``merchant.webhook`` handler (the worker and the embedded relay call this)."""
    if settings.secret_key is None:
        settings = settings.with_dev_secrets()
    registry.register(
        WEBHOOK_TOPIC, WebhookSender(settings=settings, clock=clock or SystemClock(), engine=engine)
    )


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    event_id: str
    event_type: str
    order_id: str
    url: str
    attempt: int
    succeeded: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    created_at: Any


async def list_deliveries(
    engine: AsyncEngine,
    *,
    merchant_id: str,
    order_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryView]:
    """The merchant's delivery attempts, newest first."""
    check_limit(limit)
    before = decode_cursor(cursor).get("before") if cursor else None
    if before is not None and not isinstance(before, int):
        before = None

    async def work(uow: UnitOfWork) -> list[Any]:
        conn = await uow.connection()
        statement = select(deliveries).where(deliveries.c.merchant_id == merchant_id)
        if order_id is not None:
            statement = statement.where(deliveries.c.order_id == order_id)
        if before is not None:
            statement = statement.where(deliveries.c.id < before)
        statement = statement.order_by(deliveries.c.id.desc()).limit(limit + 1)
        return list(await conn.execute(statement))

    rows = await run_unit(engine, work, read_only=True)
    items = [
        DeliveryView(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event_type,
            order_id=row.order_id,
            url=row.url,
            attempt=row.attempt,
            succeeded=bool(row.succeeded),
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
            created_at=row.created_at,
        )
        for row in rows[:limit]
    ]
    next_cursor = encode_cursor({"before": items[-1].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
