"""The ``sms.send`` outbox handler, and the SMS adapter the settings choose.

Services never call an SMS adapter: they write an ``sms.send`` event in their own
transaction (:func:`ewallet.notify.service.notify_user`, identity's verification codes) and
the relay hands it to this handler after commit, retrying with back-off. The payload is
``{"to", "sender", "body", "kind", "code"?}``; the handler builds an
:class:`~ewallet.integrations.sms.port.OutgoingSms` whose ``request_id`` is derived from the
event id, so every retry of one event is the same message to the provider (the outbox
adapter keys ``sms_messages.event_id`` on it; the HTTP adapter sends it as
``Idempotency-Key``).

The adapter is chosen once, when the handler table is built -- at start-up of the worker or
of the embedded relay -- so a refused configuration (the capturing adapter in production,
``http`` without a URL, an unknown provider) stops the process at once instead of failing
every message later. The adapters themselves live in :mod:`ewallet.integrations.sms`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.integrations.sms.http_provider import HttpSmsSender
from ewallet.integrations.sms.outbox_provider import OutboxSmsSender
from ewallet.integrations.sms.port import OutgoingSms, SmsConfigurationError, SmsSender
from ewallet.kit.clock import Clock
from ewallet.notify.service import SMS_TOPIC
from ewallet.services import Services
from ewallet.worker.registry import DeliveredEvent, Handler, HandlerRegistry


def sender_from_settings(settings: Settings, *, engine: AsyncEngine, clock: Clock) -> SmsSender:
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
    """The ``sms.send`` handler delivering through ``sender``."""

    async def send_sms(event: DeliveredEvent) -> None:
        await sender.send(message_from_event(event))

    return send_sms


def register(registry: HandlerRegistry, services: Services) -> None:
    """Add the ``sms.send`` handler for the configured provider (validated here, at start-up)."""
    sender = sender_from_settings(services.settings, engine=services.engine, clock=services.clock)
    registry.register(SMS_TOPIC, make_handler(sender))
