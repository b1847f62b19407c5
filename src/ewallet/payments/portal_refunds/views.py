"""What the portal refund use cases return."""

from __future__ import annotations

from dataclasses import dataclass

from ewallet.kit.money import Money
from ewallet.payments.views import OrderView, RefundView
from ewallet.payments.webhooks.views import DeliveryView


@dataclass(frozen=True, slots=True)
class MemberRefund:
    """The refund, the order after it, whether this call made it (False: the same
    ``out_refund_no`` and amount again), and the approver where one approved it."""

    refund: RefundView
    order: OrderView
    created: bool
    approver_id: str | None


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """An order of the person's merchant with its refunds and webhook deliveries, what is
    left to refund, and the amount above which a refund asks the authenticator."""

    order: OrderView
    refunds: list[RefundView]
    deliveries: list[DeliveryView]
    refundable: Money
    code_above: Money
