"""What the payment-code use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.payments.views import OrderView


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime
    refresh_after: int  # seconds until the next step, when the app should fetch a new code


@dataclass(frozen=True, slots=True)
class ChargeView:
    id: str
    status: str  # ChargeStatus: pending | succeeded | expired
    order: OrderView
    payment_id: str | None
    auth: str | None  # AuthStrength: none | pin
    expires_at: datetime
