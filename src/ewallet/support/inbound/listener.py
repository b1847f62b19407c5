"""The built-in SMTP listener for support mail (``ewallet mail listen``), on aiosmtpd.

An adapter: it accepts mail only for the support address and its plus-addresses (``550``
otherwise), refuses anything over ``EWALLET_SUPPORT_MAIL_MAX_BYTES`` at the SMTP level
(``552``, from aiosmtpd's ``data_size_limit``), and hands each mail to
:func:`ewallet.support.inbound.service.receive`. If storing fails it answers ``451`` -- try
again later -- so a crash of one mail never takes the listener down or loses the mail.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from ewallet.services import Services
from ewallet.support.inbound import service
from ewallet.support.policy import SupportPolicy

log = structlog.get_logger(__name__)


class SupportMailHandler:
    """aiosmtpd handler: RCPT checks the address, DATA stores the mail in one unit of work."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._policy = SupportPolicy.of(services)

    def accepts(self, address: str) -> bool:
        local, _, domain = address.strip().lower().partition("@")
        own_local, _, own_domain = self._policy.support_email.partition("@")
        return domain == own_domain and local.split("+", 1)[0] == own_local

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: Any
    ) -> str:
        if not self.accepts(address):
            return "550 5.1.1 not a support mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "replace")
        try:
            result = await service.receive(self._services, raw, envelope_sender=envelope.mail_from)
        except Exception:
            log.exception("support mail not stored", sender=envelope.mail_from)
            return "451 4.3.0 could not store the mail; try again later"
        log.info("support mail", disposition=result.disposition, ticket_id=result.ticket_id)
        return "250 Message accepted"


async def start_listener(
    services: Services, *, host: str, port: int, max_bytes: int
) -> asyncio.Server:
    """Serve SMTP on ``host:port`` in the running loop (port 0: any free port)."""
    handler = SupportMailHandler(services)
    domain = SupportPolicy.of(services).mail_domain
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(handler, data_size_limit=max_bytes, hostname=domain),
        host=host,
        port=port,
    )
