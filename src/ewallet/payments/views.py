"""What the order, payment and refund use cases return: plain values, no ORM rows.

An order that is still ``awaiting_payment`` past its ``expires_at`` is shown ``expired``:
expiry is a matter of time, not a write, so it needs no sweeper to be exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row

from ewallet.kit.errors import DomainError
from ewallet.kit.money import Money
from ewallet.models.payments import OrderStatus, PaymentStatus, RefundStatus
from ewallet.payments.card_funding.views import Funding

# The fee of rows built without one (payments made before fees existed also read 0).
NO_FEE: Final = Money(0)


def effective_status(status: str, expires_at: datetime, now: datetime) -> str:
    if status == OrderStatus.AWAITING_PAYMENT and expires_at <= now:
        return OrderStatus.EXPIRED
    return status


@dataclass(frozen=True, slots=True)
class OrderView:
    id: str
    merchant_id: str
    merchant_name: str
    out_trade_no: str
    amount: Money
    subject: str
    notify_url: str | None
    status: str
    payment_id: str | None
    refunded: Money
    expires_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    # The merchant's fee on the order's payment, less what refunds returned of it.
    fee: Money = NO_FEE

    @classmethod
    def of(
        cls,
        row: Row[Any],
        *,
        merchant_name: str,
        now: datetime,
        refunded_minor: int = 0,
        fee_minor: int = 0,
    ) -> OrderView:
        """From an ``orders`` row (its status as of ``now``); ``fee_minor`` is the payment's
        fee less the fee its refunds returned."""
        return cls(
            id=row.id,
            merchant_id=row.merchant_id,
            merchant_name=merchant_name,
            out_trade_no=row.out_trade_no,
            amount=Money(row.amount, row.currency),
            subject=row.subject,
            notify_url=row.notify_url,
            status=effective_status(row.status, row.expires_at, now),
            payment_id=row.payment_id,
            refunded=Money(refunded_minor, row.currency),
            expires_at=row.expires_at,
            paid_at=row.paid_at,
            closed_at=row.closed_at,
            created_at=row.created_at,
            fee=Money(fee_minor, row.currency),
        )

    @property
    def net(self) -> Money:
        """What the merchant keeps of the order: paid, less refunds, less the fee kept."""
        if self.paid_at is None:
            return Money(0, self.amount.currency)
        return self.amount - self.refunded - self.fee


@dataclass(frozen=True, slots=True)
class PaymentView:
    id: str
    order_id: str
    merchant_id: str
    merchant_name: str
    subject: str
    user_id: str
    amount: Money
    refunded: Money
    status: str
    ledger_transaction_id: str | None  # None while held for review, or rejected
    created_at: datetime
    # The merchant's fee taken when it settled, and what refunds returned of it.
    fee: Money = NO_FEE
    fee_returned: Money = NO_FEE
    # When the risk officer's decision is due, for a payment held for review.
    review_due_at: datetime | None = None
    # How a payment funded by a card was split (payments/card_funding); None: the balance.
    funding: Funding | None = None

    @classmethod
    def of(cls, row: Row[Any], *, merchant_name: str, subject: str) -> PaymentView:
        """From a ``payments`` row; the status follows from its refunded total."""
        refunded = Money(row.refunded_amount, row.currency)
        amount = Money(row.amount, row.currency)
        if refunded.minor == 0:
            status = PaymentStatus.SUCCEEDED
        elif refunded == amount:
            status = PaymentStatus.REFUNDED
        else:
            status = PaymentStatus.PARTIALLY_REFUNDED
        return cls(
            id=row.id,
            order_id=row.order_id,
            merchant_id=row.merchant_id,
            merchant_name=merchant_name,
            subject=subject,
            user_id=row.user_id,
            amount=amount,
            refunded=refunded,
            status=status,
            ledger_transaction_id=row.ledger_transaction_id,
            created_at=row.created_at,
            fee=Money(row.fee, row.currency),
            fee_returned=Money(row.fee_returned, row.currency),
        )


@dataclass(frozen=True, slots=True)
class PayerOrder:
    """An order as the person about to pay it sees it (the wallet's "pay an order" page).

    ``payment_id`` is the viewer's own payment of it, if they paid it; ``refusal`` is the
    first refusal paying it would meet now before any PIN is asked (the merchant does not
    take wallet payments, the order is paid, closed or expired, ...), None when it is
    payable. ``held`` is the viewer's payment of it waiting for a risk review (or rejected
    by one), if that is where it stands."""

    order: OrderView
    payment_id: str | None
    refusal: DomainError | None
    held: PaymentView | None = None


@dataclass(frozen=True, slots=True)
class RefundView:
    id: str
    order_id: str
    payment_id: str
    out_refund_no: str
    amount: Money
    status: str
    created_at: datetime
    # The part of the payment's fee this refund returned to the merchant.
    fee_returned: Money = NO_FEE

    @classmethod
    def of(cls, row: Row[Any]) -> RefundView:
        """From a ``refunds`` row."""
        return cls(
            id=row.id,
            order_id=row.order_id,
            payment_id=row.payment_id,
            out_refund_no=row.out_refund_no,
            amount=Money(row.amount, row.currency),
            status=RefundStatus.SUCCEEDED,
            created_at=row.created_at,
            fee_returned=Money(row.fee_returned, row.currency),
        )


@dataclass(frozen=True, slots=True)
class RefundFilter:
    """What a merchant's refund list keeps: each field None keeps everything.
    ``created_from`` is inclusive, ``created_to`` exclusive."""

    order_id: str | None = None
    out_refund_no: str | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
