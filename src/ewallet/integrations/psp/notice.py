"""What a PSP tells us about a payment, whichever PSP it is: a :class:`PaymentNotice`.

Both the signed async notifies and the answers to a query by ``out_trade_no`` become one of
these, so the top-up service settles a payment the same way whether the PSP called us or we
asked. Amounts are integer fen (minor units) with their currency, never a float or a
"88.88" string: the adapters convert at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from ewallet.integrations.psp.errors import SignatureInvalidError
from ewallet.kit.money import Money

PspName = Literal["alipay", "wechat_pay"]


class PaymentStatus(StrEnum):
    """The PSP's trade state, reduced to what the wallet acts on."""

    SUCCEEDED = "succeeded"  # money taken from the payer: credit the wallet (once)
    PENDING = "pending"  # created or being paid: keep waiting
    CLOSED = "closed"  # closed or revoked unpaid: the top-up failed
    FAILED = "failed"  # the payment attempt failed
    REFUNDED = "refunded"  # paid, then (partly) refunded at the PSP


@dataclass(frozen=True, slots=True)
class PaymentNotice:
    """One verified statement from a PSP about the payment ``out_trade_no``."""

    psp: PspName
    out_trade_no: str  # ours: the top-up's deterministic id
    trade_no: str | None  # the PSP's (trade_no / transaction_id); None before payment
    amount_fen: int
    currency: str
    status: PaymentStatus
    paid_at: datetime | None  # UTC; None unless succeeded
    psp_status: str  # the PSP's own word (TRADE_SUCCESS, SUCCESS, ...), for logs and support

    @property
    def amount(self) -> Money:
        return Money(self.amount_fen, self.currency)

    def ensure_amount(self, expected: Money) -> None:
        """Refuse a notice whose amount or currency differs from the order it names.

        A correctly signed notice that disagrees with our order means our order was not the
        one paid (or a key leaked): treated like a bad signature, never credited.
        """
        if self.currency != expected.currency or self.amount_fen != expected.minor:
            raise SignatureInvalidError(
                f"{self.psp} notice for {self.out_trade_no} says {self.amount}, "
                f"the order is {expected}"
            )
