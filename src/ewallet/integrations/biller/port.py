"""What the wallet needs from a biller, and how its failures are told apart.

A look-up moves no money: any failure to get an answer is ``upstream_unavailable`` and the
user may simply try again. A payment notice is sent *after* the money moved, so its
failures split in two:

- :class:`BillerRejectedError` -- the biller answered and refused for good (closed account,
  amount not offered): the wallet returns the money;
- :class:`BillerUnreachableError` -- no usable answer (refused connection, timeout, 5xx,
  garbage): the biller may or may not have it, so the wallet keeps the payment ``pending``
  and sends the same notice again later; the biller deduplicates by reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from ewallet.kit.money import Money


@dataclass(frozen=True, slots=True)
class BillQuote:
    holder_name: str
    amount_due: Money
    period: str
    due_date: date


@dataclass(frozen=True, slots=True)
class BillerConfirmation:
    confirmation_no: str
    received_at: datetime


class BillerRejectedError(Exception):
    """The biller refused the payment for good; ``reason`` is its code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BillerUnreachableError(Exception):
    """No usable answer to a payment notice: its outcome at the biller is unknown."""


class BillerGateway(Protocol):
    async def lookup(self, *, biller_id: str, account_no: str) -> BillQuote:
        """The current bill; raises ``bill_account_not_found`` or ``upstream_unavailable``."""
        ...

    async def notify_payment(
        self, *, reference: str, biller_id: str, account_no: str, amount: Money
    ) -> BillerConfirmation:
        """Tell the biller it was paid; idempotent by ``reference``."""
        ...

    async def aclose(self) -> None: ...
