"""Account-class allowances for paying from the balance (DESIGN.md, after PBoC rules).

Class I (phone only) may pay ¥1,000 from its balance over the account's lifetime; class II
(real name) ¥100,000 a year; class III (real name and a bound card) ¥200,000 a year. Usage
is read from the ledger -- the wallet's debits by payments, transfers and bills
(:mod:`ewallet.risk.repository`) -- so it can never drift from the money that actually
moved. Years and days run in Asia/Shanghai time. Pure: no SQL here.
The daily caps by authentication strength are in :mod:`ewallet.risk.spending`, which also
makes these allowances configurable (``EWALLET_LIMIT_CLASS_ALLOWANCE_MINOR``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from ewallet.kit.money import Money
from ewallet.ledger import TransactionKind

CHINA_TIME: Final = ZoneInfo("Asia/Shanghai")
# The ledger kinds that count against the class allowance: paying from the balance.
BALANCE_PAYMENT_KINDS: Final = (
    TransactionKind.PAYMENT.value,
    TransactionKind.TRANSFER.value,
    TransactionKind.BILL.value,
)


@dataclass(frozen=True, slots=True)
class ClassAllowance:
    tier: int
    allowance: Money
    period: Literal["lifetime", "year"]


CLASS_ALLOWANCES: Final[dict[int, ClassAllowance]] = {
    1: ClassAllowance(1, Money(1_000_00), "lifetime"),
    2: ClassAllowance(2, Money(100_000_00), "year"),
    3: ClassAllowance(3, Money(200_000_00), "year"),
}


def class_allowances(minor_by_tier: Mapping[int, int]) -> dict[int, ClassAllowance]:
    """The allowances with configured amounts (fen); the periods are fixed by the rules."""
    return {
        tier: ClassAllowance(
            tier, Money(minor_by_tier.get(tier, default.allowance.minor)), default.period
        )
        for tier, default in CLASS_ALLOWANCES.items()
    }


def period_start(allowance: ClassAllowance, now: datetime) -> datetime | None:
    """Where the allowance's period began: None for lifetime, else 1 January (China time)."""
    if allowance.period == "lifetime":
        return None
    local = now.astimezone(CHINA_TIME)
    return datetime.combine(local.date().replace(month=1, day=1), time(), tzinfo=CHINA_TIME)


def period_end(allowance: ClassAllowance, now: datetime) -> datetime | None:
    """When the allowance starts afresh: None for lifetime, else next 1 January (China time)."""
    if allowance.period == "lifetime":
        return None
    local = now.astimezone(CHINA_TIME)
    return datetime(local.year + 1, 1, 1, tzinfo=CHINA_TIME)


def allowance_left(allowance: ClassAllowance, used: int) -> Money:
    """What the allowance leaves after ``used`` minor units (never below zero)."""
    return Money(max(0, allowance.allowance.minor - used), allowance.allowance.currency)


def china_day_start(now: datetime) -> datetime:
    """Midnight (Asia/Shanghai) that began the day ``now`` falls in."""
    return datetime.combine(now.astimezone(CHINA_TIME).date(), time(), tzinfo=CHINA_TIME)


def next_china_midnight(now: datetime) -> datetime:
    """When the daily caps start afresh. China has no daylight saving, so +1 day is exact."""
    return china_day_start(now) + timedelta(days=1)
