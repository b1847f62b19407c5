"""The ``sms.send`` outbox handler and its wiring into a worker registry.

The event payload is ``{"to", "sender", "body", "kind", "code"?}``. The handler builds an
:class:`OutgoingSms` whose ``request_id`` is derived from the event id, so every retry of one
event is the same message to the provider (the outbox adapter keys ``sms_messages.event_id``
on it; the HTTP adapter sends it as ``Idempotency-Key``).

The sender is chosen once, from settings, when the registry is built -- i.e. at start-up of
the worker or of the embedded relay -- so a refused configuration (the capturing adapter in
production, ``http`` without a URL, an unknown provider) stops the process at once instead of
failing every message later.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.integrations.sms.http_provider import HttpSmsSender
from ewallet.integrations.sms.outbox_provider import OutboxSmsSender
from ewallet.integrations.sms.port import OutgoingSms, SmsConfigurationError, SmsSender
from ewallet.kit.clock import Clock
from ewallet.worker.registry import DeliveredEvent, Handler, HandlerRegistry

SMS_TOPIC: Final = "sms.send"


def sender_from_settings(
    settings: Settings, *, engine: AsyncEngine | None = None, clock: Clock | None = None
) -> SmsSender:
    """The adapter ``EWALLET_SMS_PROVIDER`` names; raises SmsConfigurationError if unusable."""
    provider = settings.sms_provider.strip().lower()
    if provider == "outbox":
        return OutboxSmsSender(settings, engine=engine, clock=clock)
    if provider == "http":
        return HttpSmsSender(url=settings.sms_http_url, timeout=settings.sms_http_timeout_seconds)
    raise SmsConfigurationError(
        f"unknown EWALLET_SMS_PROVIDER {settings.sms_provider!r}: use 'outbox' or 'http'"
    )


def message_from_event(event: DeliveredEvent) -> OutgoingSms:
    """Read an ``sms.send`` payload; a malformed one raises (a bug: retried, then dead)."""
    payload = event.payload
    fields = {name: payload.get(name) for name in ("to", "sender", "body", "kind")}
    missing = [name for name, value in fields.items() if not isinstance(value, str) or not value]
    if missing:
        raise ValueError(f"sms.send event {event.id} lacks {', '.join(missing)}")
    code = payload.get("code")
    return OutgoingSms(
        to=str(fields["to"]),
        sender=str(fields["sender"]),
        body=str(fields["body"]),
        kind=str(fields["kind"]),
        request_id=f"sms-{event.id}",
        event_id=event.id,
        code=code if isinstance(code, str) else None,
    )


def make_handler(sender: SmsSender) -> Handler:
    async def send_sms(event: DeliveredEvent) -> None:
        await sender.send(message_from_event(event))

    return send_sms


def register(
    registry: HandlerRegistry,
    *,
    settings: Settings,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
) -> None:
    """Add the ``sms.send`` handler for the configured provider (validated here, at start-up)."""
    registry.register(
        SMS_TOPIC, make_handler(sender_from_settings(settings, engine=engine, clock=clock))
    )
