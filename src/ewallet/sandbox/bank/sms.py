"""Where the sandbox bank's texts go, besides its own ``bank_sms`` table (``GET /sms``).

A real bank texts the binding code to the phone it holds for the card; the wallet never
sees it. In development the wallet runs the sandbox in-process, and the text lands in the
wallet's captured-SMS table (``sms_messages``, read by ``ewallet dev outbox``) with the
bank as sender, so a developer finds every code in one place. Run alone, the sandbox
prints the text instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.integrations.sms.outbox_provider import OutboxSmsSender
from ewallet.integrations.sms.port import OutgoingSms
from ewallet.kit.clock import Clock


class BankSmsSink(Protocol):
    async def deliver(
        self, *, phone: str, sender: str, body: str, code: str, request_id: str
    ) -> None:
        """Hand one text (to ``phone``, E.164) to wherever this sandbox shows texts."""
        ...


class WalletOutboxSms:
    """Stores the bank's texts in the wallet's development ``sms_messages`` table.

    The engine is looked up per message because the wallet creates it in its lifespan,
    after the sandbox app was built and mounted.
    """

    def __init__(
        self, settings: Settings, *, engine: Callable[[], AsyncEngine], clock: Clock
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._clock = clock

    async def deliver(
        self, *, phone: str, sender: str, body: str, code: str, request_id: str
    ) -> None:
        sender_adapter = OutboxSmsSender(self._settings, engine=self._engine(), clock=self._clock)
        await sender_adapter.send(
            OutgoingSms(
                to=phone,
                sender=sender,
                body=body,
                kind="verification_code",
                request_id=f"sandbox-bank:{request_id}",
                code=code,
            )
        )


class EchoSms:
    """Writes each text as one line (the stand-alone sandbox prints to its console)."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self._write = write

    async def deliver(
        self, *, phone: str, sender: str, body: str, code: str, request_id: str
    ) -> None:
        self._write(f"[sandbox bank SMS] to {phone} from {sender}: {body}")
