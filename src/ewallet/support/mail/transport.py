"""The SMTP transport for support mail (an adapter: no database, no unit of work).

The payload (see :class:`ewallet.support.mail.compose.OutgoingEmail`) becomes an RFC 5322
mail here, at delivery, so a retry builds the same mail with the same Message-ID. SMTP runs
through :mod:`smtplib` in a worker thread: one mail at a time is all support mail needs, and
a failure raises so the outbox retries with back-off.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from ewallet.support.mail.compose import SENDER_NAME


class EmailConfigurationError(RuntimeError):
    """The mail settings cannot work (e.g. a malformed SMTP URL)."""


class EmailSender(Protocol):
    async def send(self, mail: MimeMessage, *, event_id: int) -> None: ...


def build_mail(
    payload: dict[str, Any], *, event_id: int, created_at: datetime, support_email: str
) -> MimeMessage:
    """The mail of one ``email.send`` event; a malformed payload raises (retried, then dead)."""
    for name in ("to", "subject", "text", "message_id"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise ValueError(f"email.send event {event_id} lacks {name}")
    local, _, domain = support_email.partition("@")
    mail = MimeMessage()
    mail["From"] = Address(SENDER_NAME, local, domain)
    mail["To"] = payload["to"]
    mail["Subject"] = payload["subject"]
    mail["Date"] = format_datetime(created_at)
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
