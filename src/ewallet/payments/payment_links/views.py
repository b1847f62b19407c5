"""What the payment-link use cases return: plain values, no ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from ewallet.kit.money import Money
from ewallet.models.payment_links import PaymentLinkStatus


def effective_status(
    status: str, *, expires_at: datetime | None, uses: int, max_uses: int | None, now: datetime
) -> str:
    """The status as shown: a stored ``active`` link past its time reads ``expired``, and one
    that has made ``max_uses`` orders reads ``used_up``."""
    if status != PaymentLinkStatus.ACTIVE:
        return status
    if expires_at is not None and expires_at <= now:
        return PaymentLinkStatus.EXPIRED
    if max_uses is not None and uses >= max_uses:
        return PaymentLinkStatus.USED_UP
    return status


@dataclass(frozen=True, slots=True)
class PaymentLinkView:
    id: str
    merchant_id: str
    merchant_name: str
    token: str
    amount: Money | None
    currency: str
    subject: str
    out_trade_prefix: str
    status: str
    max_uses: int | None
    uses: int
    expires_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime

    @property
    def usable(self) -> bool:
        return self.status == PaymentLinkStatus.ACTIVE

    @classmethod
    def of(cls, row: Row[Any], *, merchant_name: str, now: datetime) -> PaymentLinkView:
        """From a ``payment_links`` row (its status as of ``now``)."""
        return cls(
            id=row.id,
            merchant_id=row.merchant_id,
            merchant_name=merchant_name,
            token=row.token,
            amount=None if row.amount is None else Money(row.amount, row.currency),
            currency=row.currency,
            subject=row.subject,
            out_trade_prefix=row.out_trade_prefix,
            status=effective_status(
                row.status,
                expires_at=row.expires_at,
                uses=row.uses,
                max_uses=row.max_uses,
                now=now,
            ),
            max_uses=row.max_uses,
            uses=row.uses,
            expires_at=row.expires_at,
            disabled_at=row.disabled_at,
            created_at=row.created_at,
        )
