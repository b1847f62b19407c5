"""What the wallet holds and may still spend, as ``GET /v1/me/wallet`` shows it; the home
page's summary."""

from __future__ import annotations

from dataclasses import dataclass

from ewallet.history.views import HistoryEntry
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


@dataclass(frozen=True, slots=True)
class HomeView:
    """What the wallet's home page shows: the balance, the account's status and class, the
    latest entries of the history (newest first) and how many notices are unread."""

    balance: Balance
    status: str  # UserStatus
    tier: int
    recent: list[HistoryEntry]
    unread_notices: int
