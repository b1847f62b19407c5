"""The ``bills.deliver`` outbox handler: tell the biller about a payment until it answers.

Each bill payment queues one event in the unit that charges it (:mod:`ewallet.bills.service`);
delivering it finishes a payment still ``pending``, and a payment already settled makes
it a no-op. When the biller gives no usable answer the handler raises, so the relay tries
again later with back-off.
"""

from __future__ import annotations

from ewallet.bills.delivery import DELIVERY_TOPIC, deliver_payment
from ewallet.models.bills import BillPaymentStatus
from ewallet.services import Services
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry


class BillDeliveryPendingError(RuntimeError):
    """The biller gave no usable answer: the outbox relay tries again later."""


def register(registry: HandlerRegistry, services: Services) -> None:
    """Add the ``bills.deliver`` handler, delivering with ``services`` (its engine, clock
    and biller gateway)."""

    async def deliver(event: DeliveredEvent) -> None:
        payment_id = event.payload.get("bill_payment_id")
        if not isinstance(payment_id, str):
            raise TypeError(f"bills.deliver event {event.id} lacks bill_payment_id")
        if await deliver_payment(services, payment_id) == BillPaymentStatus.PENDING:
            raise BillDeliveryPendingError(f"bill payment {payment_id}: the biller did not answer")

    registry.register(DELIVERY_TOPIC, deliver)
