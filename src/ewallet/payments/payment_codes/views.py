"""What the payment-code use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.models.payment_codes import CodeFundingSource
from ewallet.payments.card_funding.views import CardChoice
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


@dataclass(frozen=True, slots=True)
class CodeActivity:
    """What the screen showing a user's payment code follows while it is open.

    ``waiting``: the charges waiting for the user's payment password, still in time,
    oldest first; ``just_paid``: the user's newest charge if it was paid in the last few
    minutes (the screen says so); ``mark``: a short digest that changes whenever either
    does -- a new charge, one confirmed, declined or expired -- so a live channel can tell
    the screen to refresh without saying more."""

    waiting: tuple[ChargeView, ...]
    just_paid: ChargeView | None
    mark: str


@dataclass(frozen=True, slots=True)
class PaymentScreen:
    """The payment-code screen: the code to show now and what it follows (above)."""

    code: IssuedCode
    activity: CodeActivity


@dataclass(frozen=True, slots=True)
class CodeFunding:
    """The user's setting and the card it would use now (None: no active card)."""

    source: CodeFundingSource
    card_id: str | None  # the card the user named (None: the default card)
    card: CardChoice | None
