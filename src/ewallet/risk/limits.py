"""Account-class allowances for paying from the balance (DESIGN.md, after PBoC rules).

Class I (phone only) may pay ¥1,000 from its balance over the account's lifetime; class II
(real name) ¥100,000 a year; class III (real name and a bound card) ¥200,000 a year. Usage
is read from the ledger -- the wallet's debits by payments, transfers and bills -- so it
can never drift from the money that actually moved. Years run in Asia/Shanghai time.
The daily caps by authentication strength are in :mod:`ewallet.risk.spending`, which also
makes these allowances configurable (``EWALLET_LIMIT_CLASS_ALLOWANCE_MINOR``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.money import Money
from ewallet.ledger import TransactionKind
from ewallet.models.tables import ledger_postings as postings
from ewallet.models.tables import ledger_transactions as transactions

CHINA_TIME: Final = ZoneInfo("Asia/Shanghai")
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


def balance_payments_query(*, wallet_account_id: int, since: datetime | None) -> Select[Any]:
    """The query of :func:`balance_payments`, for callers that fold it into one statement
    with other reads (each statement costs a compile and a round trip on the spend path)."""
    statement = (
        select(func.coalesce(func.sum(postings.c.amount), 0))
        .select_from(postings.join(transactions, transactions.c.id == postings.c.transaction_id))
        .where(
            postings.c.account_id == wallet_account_id,
            postings.c.amount > 0,
            transactions.c.kind.in_(BALANCE_PAYMENT_KINDS),
        )
    )
    if since is not None:
        statement = statement.where(postings.c.created_at >= since)
    return statement


async def balance_payments(
    conn: AsyncConnection, *, wallet_account_id: int, since: datetime | None
) -> int:
    """Minor units paid out of the wallet by payments, transfers and bills since ``since``."""
    statement = balance_payments_query(wallet_account_id=wallet_account_id, since=since)
    return int((await conn.execute(statement)).scalar_one())


def allowance_left(allowance: ClassAllowance, used: int) -> Money:
    """What the allowance leaves after ``used`` minor units (never below zero)."""
    return Money(max(0, allowance.allowance.minor - used), allowance.allowance.currency)


async def remaining_allowance(
    conn: AsyncConnection,
    *,
    tier: int,
    wallet_account_id: int | None,
    now: datetime,
    allowances: Mapping[int, ClassAllowance] = CLASS_ALLOWANCES,
) -> Money:
    allowance = allowances[tier]
    if wallet_account_id is None:
        return allowance.allowance
    used = await balance_payments(
        conn, wallet_account_id=wallet_account_id, since=period_start(allowance, now)
    )
    return allowance_left(allowance, used)
