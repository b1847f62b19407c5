"""A real SMTP server that keeps what it receives (aiosmtpd), and a real SMTP client."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class Inbox:
    """aiosmtpd handler keeping every mail it is given, parsed."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        mail = message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"


@asynccontextmanager
async def smtp_server(handler: Any, **kwargs: Any) -> AsyncIterator[int]:
    """Serve ``handler`` on a free local port in this loop; yields the port."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **kwargs), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def _send(port: int, raw: bytes, sender: str, recipients: list[str]) -> dict[str, Any]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail(sender, recipients, raw)


async def send_raw(
    port: int,
    raw: bytes,
    *,
    sender: str = "customer@example.com",
    to: str = "service@ewallet.example",
) -> dict[str, Any]:
    """Send ``raw`` with the standard library's SMTP client (in a thread: it blocks)."""
    return await asyncio.to_thread(_send, port, raw, sender, [to])
