"""The SMS port: what every SMS adapter accepts, and how it reports failure.

``send`` returns once the provider has accepted the message and raises otherwise; the outbox
worker turns a raise into a retry with back-off. ``request_id`` is stable across retries of
the same outbox event, so a provider that honours it never delivers one message twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SmsConfigurationError(RuntimeError):
    """The SMS settings cannot work (e.g. the capturing provider in production)."""


class SmsDeliveryError(RuntimeError):
    """The provider refused or failed the message; the worker will try again."""


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    to: str  # E.164
    sender: str
    body: str
    kind: str  # "verification_code" or a notice kind
    request_id: str  # stable per outbox event: "sms-<event id>"
    event_id: int | None = None
    code: str | None = None  # the verification code the body carries, if any


class SmsSender(Protocol):
    async def send(self, message: OutgoingSms) -> None:
        """Hand ``message`` to the provider; raise if it was not accepted."""
        ...
