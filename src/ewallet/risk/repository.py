"""All SQL of risk: spend records, the reads the limits depend on, and risk alerts.

Functions take the caller's connection (or unit of work) and never commit: they run inside
the unit that moves the money (:func:`ewallet.risk.spending.reserve_spend`), so a record
commits or rolls back with it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.ledger import chart
from ewallet.ledger import repository as ledger_repository
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.models.tables import ledger_postings as postings
from ewallet.models.tables import ledger_transactions as transactions
from ewallet.models.tables import risk_alerts, spend_records, users
from ewallet.risk.limits import BALANCE_PAYMENT_KINDS, china_day_start


@dataclass(frozen=True, slots=True)
class DayUsage:
    """What one user spent today (not released), in minor units of one currency."""

    total: int = 0
    no_pin: int = 0
    no_pin_count: int = 0
    payment_code_no_pin: int = 0
    static_qr: int = 0


@dataclass(frozen=True, slots=True)
class UsageRead:
    """Today's usage and, when the wallet is known, what the class allowance's period paid."""

    usage: DayUsage
    class_paid: int | None  # None: no wallet account, so nothing was paid from it


@functools.cache
def _usage_statement(*, with_wallet: bool, with_since: bool) -> Select[Any]:
    """The statement of :func:`read_usage`, built once per shape and run with parameters
    (building it costs more CPU than its compile, which SQLAlchemy caches anyway): today's
    totals as conditional sums in one row, plus, ``with_wallet``, the class period's
    payments out of the wallet (read from the ledger, so the allowance can never drift from
    the money that moved) -- ``with_since`` from the period's start, else ever."""
    amount = spend_records.c.amount
    no_pin = spend_records.c.auth == AuthStrength.NONE

    def summed(value: Any, condition: Any = None) -> Any:
        term = value if condition is None else case((condition, value), else_=0)
        return func.coalesce(func.sum(term), 0)

    statement = select(
        summed(amount).label("total"),
        summed(amount, no_pin).label("no_pin"),
        summed(1, no_pin).label("no_pin_count"),
        summed(amount, and_(no_pin, spend_records.c.channel == SpendChannel.PAYMENT_CODE)).label(
            "payment_code_no_pin"
        ),
        summed(amount, spend_records.c.channel == SpendChannel.STATIC_QR).label("static_qr"),
    ).where(
        spend_records.c.user_id == bindparam("user_id"),
        spend_records.c.currency == bindparam("currency"),
        spend_records.c.created_at >= bindparam("day_start"),
        spend_records.c.created_at < bindparam("day_end"),
        spend_records.c.released_at.is_(None),
    )
    if not with_wallet:
        return statement
    paid = (
        select(func.coalesce(func.sum(postings.c.amount), 0))
        .select_from(postings.join(transactions, transactions.c.id == postings.c.transaction_id))
        .where(
            postings.c.account_id == bindparam("wallet_account_id"),
            postings.c.amount > 0,
            transactions.c.kind.in_(BALANCE_PAYMENT_KINDS),
        )
    )
    if with_since:
        paid = paid.where(postings.c.created_at >= bindparam("class_since"))
    return statement.add_columns(paid.scalar_subquery().label("class_paid"))


async def wallet_account_id(conn: AsyncConnection, *, user_id: str, currency: str) -> int | None:
    """The wallet's ledger account in ``currency``; None while it has none."""
    account = await ledger_repository.get_account_by_code(
        conn, chart.wallet(user_id, currency).code
    )
    return account.id if account else None


async def read_usage(
    conn: AsyncConnection,
    *,
    user_id: str,
    currency: str,
    now: datetime,
    wallet_account_id: int | None,
    class_since: datetime | None,
) -> UsageRead:
    """Today's usage and the class period's payments, in ONE statement (each statement
    costs a compile and a round trip on the spend path)."""
    day_start = china_day_start(now)
    statement = _usage_statement(
        with_wallet=wallet_account_id is not None, with_since=class_since is not None
    )
    parameters: dict[str, Any] = {
        "user_id": user_id,
        "currency": currency,
        "day_start": day_start,
        "day_end": day_start + timedelta(days=1),
    }
    if wallet_account_id is not None:
        parameters["wallet_account_id"] = wallet_account_id
    if class_since is not None:
        parameters["class_since"] = class_since
    row = (await conn.execute(statement, parameters)).one()
    usage = DayUsage(
        int(row.total),
        int(row.no_pin),
        int(row.no_pin_count),
        int(row.payment_code_no_pin),
        int(row.static_qr),
    )
    return UsageRead(usage, None if wallet_account_id is None else int(row.class_paid))


async def spend_recorded(conn: AsyncConnection, reference: str) -> bool:
    """Whether a spend with ``reference`` was recorded already (released or not)."""
    statement = select(spend_records.c.id).where(spend_records.c.reference == reference)
    return (await conn.execute(statement)).first() is not None


async def insert_spend_record(
    conn: AsyncConnection,
    *,
    user_id: str,
    reference: str,
    channel: SpendChannel,
    auth: AuthStrength,
    amount: Money,
    now: datetime,
    counterparty: str | None = None,
) -> None:
    await conn.execute(
        insert(spend_records),
        {
            "id": new_id("spd"),
            "user_id": user_id,
            "reference": reference,
            "channel": channel.value,
            "auth": auth.value,
            "amount": amount.minor,
            "currency": amount.currency,
            "created_at": now,
            "released_at": None,
            "counterparty": counterparty,
        },
    )


async def release_spend_record(
    conn: AsyncConnection, *, reference: str, released_at: datetime
) -> None:
    """Mark the record released (an unknown or already released one: nothing changes)."""
    await conn.execute(
        update(spend_records)
        .where(spend_records.c.reference == reference, spend_records.c.released_at.is_(None))
        .values(released_at=released_at)
    )


async def user_tier(conn: AsyncConnection, user_id: str) -> int | None:
    """The user's account class (1-3); None if there is no such user."""
    tier = (await conn.execute(select(users.c.tier).where(users.c.id == user_id))).scalar()
    return None if tier is None else int(tier)


async def insert_alert(
    conn: AsyncConnection,
    *,
    kind: str,
    subject_type: str,
    subject_id: str,
    details: dict[str, Any],
    now: datetime,
) -> str:
    """Write one ``risk_alerts`` row; its id."""
    alert_id = new_id("ra")
    await conn.execute(
        insert(risk_alerts).values(
            id=alert_id,
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            details=details,
            created_at=now,
        )
    )
    return alert_id
