"""The ``email.send`` outbox handler: SMTP when ``EWALLET_SMTP_URL`` is set, else capture.

The payload (see :class:`ewallet.support.email_out.OutgoingEmail`) becomes an RFC 5322 mail
here, at delivery, so a retry builds the same mail with the same Message-ID. SMTP runs
through :mod:`smtplib` in a worker thread: one mail at a time is all support mail needs, and
a failure raises so the outbox retries with back-off.

Without an SMTP URL the development ``outbox`` provider keeps mails in ``email_messages``
(``ewallet dev outbox --email``); it is never used in production.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime
from typing import Any, Final, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Environment, Settings
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.db.engine import is_sqlite, make_engine
from ewallet.models.tables import email_messages
from ewallet.support.email_out import EMAIL_TOPIC, SENDER_NAME
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


class EmailConfigurationError(RuntimeError):
    """The mail settings cannot work (e.g. a malformed SMTP URL)."""


class EmailSender(Protocol):
    async def send(self, mail: MimeMessage, *, event_id: int) -> None: ...


def build_mail(event: DeliveredEvent, *, support_email: str) -> MimeMessage:
    """The mail of one ``email.send`` event; a malformed payload raises (retried, then dead)."""
    payload = event.payload
    for name in ("to", "subject", "text", "message_id"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise ValueError(f"email.send event {event.id} lacks {name}")
    local, _, domain = support_email.partition("@")
    mail = MimeMessage()
    mail["From"] = Address(SENDER_NAME, local, domain)
    mail["To"] = payload["to"]
    mail["Subject"] = payload["subject"]
    mail["Date"] = format_datetime(event.created_at)
    mail["Message-ID"] = f"<{payload['message_id']}>"
    if payload.get("in_reply_to"):
        mail["In-Reply-To"] = f"<{payload['in_reply_to']}>"
    references = [ref for ref in payload.get("references") or [] if isinstance(ref, str)]
    if references:
        mail["References"] = " ".join(f"<{ref}>" for ref in references)
    if payload.get("reply_to"):
        mail["Reply-To"] = payload["reply_to"]
    if payload.get("auto_submitted"):
        mail["Auto-Submitted"] = "auto-replied"
    mail.set_content(payload["text"], charset="utf-8")
    return mail


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    use_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise EmailConfigurationError(
                "EWALLET_SMTP_URL must look like smtp://host:port or smtps://host:port, "
                f"got {url!r}"
            )
        tls = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            use_tls=tls,
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpSender:
    def __init__(self, target: SmtpTarget, *, timeout: float) -> None:
        self._target = target
        self._timeout = timeout

    async def send(self, mail: MimeMessage, *, event_id: int) -> None:
        await asyncio.to_thread(self._send_blocking, mail)

    def _send_blocking(self, mail: MimeMessage) -> None:
        target = self._target
        client: smtplib.SMTP
        if target.use_tls:
            client = smtplib.SMTP_SSL(
                target.host,
                target.port,
                timeout=self._timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=self._timeout)
        with client:
            if target.starttls:
                client.starttls(context=ssl.create_default_context())
            if target.username is not None:
                client.login(target.username, target.password or "")
            client.send_message(mail)


class CapturingSender:
    """Development only: keeps each mail in ``email_messages`` (idempotent by event id)."""

    def __init__(
        self, settings: Settings, *, engine: AsyncEngine | None = None, clock: Clock | None = None
    ) -> None:
        if settings.env is Environment.PRODUCTION:
            raise EmailConfigurationError(
                "without EWALLET_SMTP_URL mail is only captured, which production refuses; "
                "set EWALLET_SMTP_URL"
            )
        self._settings = settings
        self._engine = engine
        self._clock = clock or SystemClock()

    async def send(self, mail: MimeMessage, *, event_id: int) -> None:
        if self._engine is not None:
            await self._store(self._engine, mail, event_id)
            return
        engine = make_engine(self._settings.database_url, pool_size=1)
        try:
            await self._store(engine, mail, event_id)
        finally:
            await engine.dispose()

    async def _store(self, engine: AsyncEngine, mail: MimeMessage, event_id: int) -> None:
        headers = {name: str(mail[name]) for name in CAPTURED_HEADERS if mail[name] is not None}
        body = mail.get_content()
        values: dict[str, Any] = {
            "recipient": str(mail["To"]),
            "sender": str(mail["From"]),
            "subject": str(mail["Subject"])[:300],
            "body": body,
            "headers": headers,
            "event_id": event_id,
            "created_at": self._clock.now(),
        }
        dialect_insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
        statement = (
            dialect_insert(email_messages)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        async with engine.begin() as connection:
            await connection.execute(statement)


def sender_from_settings(
    settings: Settings, *, engine: AsyncEngine | None = None, clock: Clock | None = None
) -> EmailSender:
    if settings.smtp_url:
        return SmtpSender(
            SmtpTarget.parse(settings.smtp_url), timeout=settings.smtp_timeout_seconds
        )
    return CapturingSender(settings, engine=engine, clock=clock)


def make_handler(sender: EmailSender, *, support_email: str) -> Handler:
    async def send_email(event: DeliveredEvent) -> None:
        await sender.send(build_mail(event, support_email=support_email), event_id=event.id)

    return send_email


def register(
    registry: HandlerRegistry,
    *,
    settings: Settings,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
) -> None:
    """Add the ``email.send`` handler for the configured transport (validated at start-up).

    Production without ``EWALLET_SMTP_URL`` registers nothing and says so: support mail then
    waits as dead outbox events (``last_error`` names the missing handler) and
    ``requeue_dead(topic="email.send")`` sends it once a server is configured, instead of the
    whole worker (and its SMS and webhooks) refusing to start.
    """
    if settings.env is Environment.PRODUCTION and not settings.smtp_url:
        log.warning("email.send has no handler: set EWALLET_SMTP_URL to send support mail")
        return
    registry.register(
        EMAIL_TOPIC,
        make_handler(
            sender_from_settings(settings, engine=engine, clock=clock),
            support_email=settings.support_email.strip().lower(),
        ),
    )
