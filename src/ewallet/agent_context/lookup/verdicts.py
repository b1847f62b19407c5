"""What a money record means for the customer on the phone, as one stable code.

The console turns each code into a sentence an agent can read out; API clients switch on
it. The hard case is an order: "I was charged but the shop says it was not paid" is
answered by whether the wallet took the money (the order is paid) and whether the merchant
was told (a webhook delivery the merchant acknowledged with 2xx).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ewallet.agent_context.lookup.views import ChargeFacts, OrderFacts, PaymentFacts, WebhookAttempt
from ewallet.models.payments import OrderStatus, PaymentStatus

PAID_EVENT: Final = "order.paid"

# Every code, in the order the docs list them (docs/customer-service.md).
ORDER_VERDICTS: Final = (
    "not_paid",  # waiting for payment: no money left the wallet for it
    "awaiting_customer_pin",  # a payment-code charge waits for the customer's PIN
    "payment_under_review",  # paid into a hold: risk control reviews it (docs/risk-review.md)
    "expired_unpaid",  # expired before anyone paid it
    "closed_unpaid",  # the merchant closed it unpaid
    "paid_merchant_notified",  # paid, and the merchant acknowledged our notice
    "paid_merchant_not_reached",  # paid; our notices to the merchant failed so far
    "paid_notice_queued",  # paid; the notice is queued and not tried yet
    "paid_merchant_polls",  # paid; the merchant takes no notices and must query the order
    "partially_refunded",
    "refunded",
)
OTHER_VERDICTS: Final = {
    "refund": {"succeeded": "refund_completed"},
    # Held for risk review (docs/risk-review.md): waiting on a hold, or rejected and released.
    "transfer": {
        "succeeded": "transfer_completed",
        "under_review": "transfer_under_review",
        "rejected": "transfer_review_rejected",
    },
    "topup": {
        "awaiting_payment": "topup_awaiting_payment",
        "pending": "topup_pending_at_bank",
        "succeeded": "topup_credited",
        "failed": "topup_failed",
        "closed": "topup_closed",
    },
    "withdrawal": {
        "processing": "withdrawal_processing",
        "pending": "withdrawal_pending_at_bank",
        "succeeded": "withdrawal_paid_out",
        "failed": "withdrawal_failed_returned",
        "under_review": "withdrawal_under_review",
        "rejected": "withdrawal_review_rejected",
    },
    "bill_payment": {
        "pending": "bill_awaiting_biller",
        "succeeded": "bill_confirmed",
        "failed": "bill_failed_refunded",
        "under_review": "bill_under_review",
        "rejected": "bill_review_rejected",
    },
    "counter_deposit": {
        "awaiting_approval": "deposit_awaiting_approval",
        "completed": "deposit_credited",
        "rejected": "deposit_rejected",
    },
}
UNKNOWN: Final = "unknown"
UNPAID: Final[dict[str, str]] = {
    OrderStatus.UNDER_REVIEW: "payment_under_review",
    OrderStatus.EXPIRED: "expired_unpaid",
    OrderStatus.CLOSED: "closed_unpaid",
}


def order_verdict(
    order: OrderFacts,
    payment: PaymentFacts | None,
    charge: ChargeFacts | None,
    webhooks: Sequence[WebhookAttempt],
) -> str:
    """The verdict on an order, whichever of its records (order, payment, charge) was
    looked up."""
    if payment is None:
        return _unpaid(order, charge)
    if payment.status != PaymentStatus.SUCCEEDED:  # refunded, or partly
        return str(payment.status)
    told = [w for w in webhooks if w.event_type == PAID_EVENT]
    if any(w.succeeded for w in told):
        return "paid_merchant_notified"
    if told:
        return "paid_merchant_not_reached"
    return "paid_notice_queued" if order.notifies else "paid_merchant_polls"


def _unpaid(order: OrderFacts, charge: ChargeFacts | None) -> str:
    if charge is not None and charge.status == "pending":
        return "awaiting_customer_pin"
    return UNPAID.get(order.status, "not_paid")


def movement_verdict(kind: str, status: str) -> str:
    """The verdict on a record that is not about an order, from its kind and status."""
    return OTHER_VERDICTS.get(kind, {}).get(status, UNKNOWN)
