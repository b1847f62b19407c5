"""What the counter's use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ewallet.kit.money import Money
from ewallet.merchants.stores.views import StoreView
from ewallet.payments.static_qr.views import StaticQrCodeView


class SaleState(StrEnum):
    PAID = "paid"
    WAITING = "waiting"  # the customer confirms it with the payment password
    DECLINED = "declined"  # declined by the customer, or not confirmed in time
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TillSale:
    """A sale at the till as the cashier sees it: ``payer`` is the payer's masked phone
    (None until paid); ``at`` is when it was paid, else when it was made."""

    order_id: str
    state: SaleState
    amount: Money
    refunded: Money
    payer: str | None
    at: datetime
    expires_at: datetime

    @property
    def refundable(self) -> Money:
        return self.amount - self.refunded


@dataclass(frozen=True, slots=True)
class FeedPayment:
    """One static-QR payment of the day, newest first in the feed."""

    order_id: str
    amount: Money
    payee: str  # the store's name, else the merchant's (the order's subject)
    payer: str  # masked phone
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class StaticQrOverview:
    """The static QR page: the merchant's active codes (its own first), its stores and
    today's static-QR payments (newest first)."""

    codes: tuple[StaticQrCodeView, ...]
    stores: tuple[StoreView, ...]
    feed: tuple[FeedPayment, ...]
