"""What a receive code shows its owner, and what it shows the person about to pay it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.kit.money import Money
from ewallet.transfers.views import Payee


@dataclass(frozen=True, slots=True)
class ReceiveCodeView:
    """The owner's own code: the token, the URL its QR holds, its optional terms."""

    token: str
    url: str
    fixed_amount: Money | None
    note: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReceiveTarget:
    """Whom a scanned code pays (masked, as a transfer's confirmation shows) and its terms."""

    token: str
    payee: Payee
    fixed_amount: Money | None
    note: str | None
