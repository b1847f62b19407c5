"""Where the sandbox bank's texts go, besides its own ``bank_sms`` table (``GET /sms``).

A real bank texts the binding code to the phone it holds for the card; the wallet never
sees it. In development the wallet runs the sandbox in-process and hands it an SMS adapter
of its own through :class:`SmsPortSink` (the composition root passes the capturing outbox
provider, so the text lands in the wallet's ``sms_messages`` table, read by ``ewallet dev
outbox``, with the bank as sender): a developer finds every code in one place. Run alone,
the sandbox prints the text instead (:class:`EchoSms`). The sandbox knows only the SMS
port (:mod:`ewallet.integrations.sms.port`), never an adapter or the wallet's database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ewallet.integrations.sms.port import OutgoingSms, SmsSender


class BankSmsSink(Protocol):
    async def deliver(
        self, *, phone: str, sender: str, body: str, code: str, request_id: str
    ) -> None:
        """Hand one text (to ``phone``, E.164) to wherever this sandbox shows texts."""
        ...


class SmsPortSink:
    """Hands each text to an SMS adapter of the wallet, as a verification-code message.

    ``make_sender`` builds the adapter for each text, because the wallet's adapter needs the
    engine its lifespan creates after the sandbox app was built and mounted. The message's
    ``request_id`` is ``sandbox-bank:<the bank's request id>``.
    """

    def __init__(self, make_sender: Callable[[], SmsSender]) -> None:
        self._make_sender = make_sender

    async def deliver(
        self, *, phone: str, sender: str, body: str, code: str, request_id: str
    ) -> None:
        await self._make_sender().send(
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
