"""What the wallet holds and may still spend, as ``GET /v1/me/wallet`` shows it."""

from __future__ import annotations

from dataclasses import dataclass

from ewallet.kit.money import Money
from ewallet.risk.spending import SpendingSummary


@dataclass(frozen=True, slots=True)
class Balance:
    available: Money
    held: Money
    total: Money


@dataclass(frozen=True, slots=True)
class WalletView:
    tier: int
    status: str  # UserStatus
    balances: list[Balance]
    allowance_period: str
    allowance_remaining: Money
    spending: SpendingSummary
