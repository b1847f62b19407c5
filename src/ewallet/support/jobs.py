"""Support's outbox handler: ``email.send`` by SMTP when ``EWALLET_SMTP_URL`` is set, else capture.

:func:`register` is what the composition root (:mod:`ewallet.bootstrap`) calls. The handler
builds the RFC 5322 mail at delivery (:mod:`ewallet.support.mail.transport`), so a retry
sends the same mail with the same Message-ID; a failure raises and the outbox retries.

Without an SMTP URL the development ``outbox`` provider keeps mails in ``email_messages``
(``ewallet dev outbox --email``), through the process's own engine; production refuses it.
"""

from __future__ import annotations

from email.message import EmailMessage as MimeMessage
from typing import Any, Final

import structlog

from ewallet.config import Environment, Settings
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.services import Services
from ewallet.support.mail import repository as repo
from ewallet.support.mail.compose import EMAIL_TOPIC
from ewallet.support.mail.transport import (
    EmailConfigurationError,
    EmailSender,
    SmtpSender,
    SmtpTarget,
    build_mail,
)
from ewallet.worker.registry import DeliveredEvent, Handler, HandlerRegistry

log = structlog.get_logger(__name__)
CAPTURED_HEADERS: Final = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Reply-To",
    "Auto-Submitted",
)


class CapturingSender:
    """Development only: keeps each mail in ``email_messages`` (idempotent by event id)."""

    def __init__(self, services: Services) -> None:
        refuse_capture_in_production(services.settings)
        self._services = services

    async def send(self, mail: MimeMessage, *, event_id: int) -> None:
        headers = {name: str(mail[name]) for name in CAPTURED_HEADERS if mail[name] is not None}
        values: dict[str, Any] = {
            "recipient": str(mail["To"]),
            "sender": str(mail["From"]),
            "subject": str(mail["Subject"])[:300],
            "body": mail.get_content(),
            "headers": headers,
            "event_id": event_id,
            "created_at": self._services.clock.now(),
        }

        async def work(uow: UnitOfWork) -> None:
            await repo.store_captured(
                await uow.connection(), sqlite_dialect=uow.is_sqlite, values=values
            )

        await run_unit(self._services.engine, work)


def refuse_capture_in_production(settings: Settings) -> None:
    if settings.env is Environment.PRODUCTION:
        raise EmailConfigurationError(
            "without EWALLET_SMTP_URL mail is only captured, which production refuses; "
            "set EWALLET_SMTP_URL"
        )


def sender_for(services: Services) -> EmailSender:
    """SMTP when ``EWALLET_SMTP_URL`` is set (validated here), else the capturing sender."""
    settings = services.settings
    if settings.smtp_url:
        return SmtpSender(
            SmtpTarget.parse(settings.smtp_url), timeout=settings.smtp_timeout_seconds
        )
    return CapturingSender(services)


def make_handler(sender: EmailSender, *, support_email: str) -> Handler:
    async def send_email(event: DeliveredEvent) -> None:
        mail = build_mail(
            event.payload,
            event_id=event.id,
            created_at=event.created_at,
            support_email=support_email,
        )
        await sender.send(mail, event_id=event.id)

    return send_email


def register(registry: HandlerRegistry, services: Services) -> None:
    """Add the ``email.send`` handler for the configured transport (validated at start-up).

    Production without ``EWALLET_SMTP_URL`` registers nothing and says so: support mail then
    waits as dead outbox events (``last_error`` names the missing handler) and
    ``requeue_dead(topic="email.send")`` sends it once a server is configured, instead of the
    whole worker (and its SMS and webhooks) refusing to start.
    """
    settings = services.settings
    if settings.env is Environment.PRODUCTION and not settings.smtp_url:
        log.warning("email.send has no handler: set EWALLET_SMTP_URL to send support mail")
        return
    registry.register(
        EMAIL_TOPIC,
        make_handler(sender_for(services), support_email=settings.support_email.strip().lower()),
    )
