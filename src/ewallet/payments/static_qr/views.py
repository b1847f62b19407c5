"""What the static-QR use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ewallet.kit.money import Money
from ewallet.merchants.views import MerchantView

# The merchant order number of every static-QR payment begins so (``sqr_`` + an id): the
# portal's live feed finds them by it.
STATIC_QR_ORDER_PREFIX: Final = "sqr"


@dataclass(frozen=True, slots=True)
class StaticQrCodeView:
    """One code as its merchant sees it."""

    token: str
    merchant_id: str
    store_id: str | None  # None: the merchant's own code
    store_name: str | None
    fixed_amount: Money | None
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StaticQrTarget:
    """Whom a scanned code pays: the merchant, the store (if any) and the fixed amount."""

    token: str
    merchant: MerchantView
    store_id: str | None
    store_name: str | None
    fixed_amount: Money | None

    @property
    def payee_name(self) -> str:
        """What the payer sees and the order's subject: the store's name, else the merchant's."""
        return self.store_name or self.merchant.name


@dataclass(frozen=True, slots=True)
class StaticQrScreen:
    """What the pay page shows before paying: the payee and the payer's password-free terms
    (the page offers paying without the PIN only when they could apply)."""

    target: StaticQrTarget
    password_free: bool
    password_free_cap: Money | None
    daily_cap: Money  # the day's static-QR limit (``daily_static_qr``), whatever the PIN


@dataclass(frozen=True, slots=True)
class PrintableCode:
    """What the printed sheet shows."""

    token: str
    url: str
    merchant_name: str
    store_name: str | None
    fixed_amount: Money | None
