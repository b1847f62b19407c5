"""Every statement of settlement: payout accounts, settlement rows, and what it reads of the
ledger (the parties' accounts and their postings) and of payments, refunds and bill payments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.db.locking import for_no_key_update
from ewallet.kit.money import Money
from ewallet.models.bills import BillPaymentStatus
from ewallet.models.settlement import OPEN_STATUSES, PartyKind, SettlementStatus
from ewallet.models.tables import (
    bill_payments,
    billers,
    ledger_accounts,
    ledger_balance_deltas,
    ledger_postings,
    ledger_transactions,
    merchants,
    orders,
    payments,
    payout_accounts,
    refunds,
    settlements,
)
from ewallet.settlement.views import (
    Party,
    PayoutAccountView,
    PayoutTarget,
    SettlementView,
    StatementLine,
)

PAYOUT_KIND = "payout"  # the ledger kind of a payout's hold and its posting
# The ledger account kind of each party kind (ledger/chart.py).
ACCOUNT_KINDS = {"merchant": PartyKind.MERCHANT, "biller_payable": PartyKind.BILLER}


# ------------------------------------------------------------------------------ parties


async def party_name(conn: AsyncConnection, kind: str, party_id: str) -> str | None:
    if kind == PartyKind.MERCHANT:
        statement = select(merchants.c.name).where(merchants.c.id == party_id)
    else:
        statement = select(billers.c.name_zh).where(billers.c.id == party_id)
    value = await conn.scalar(statement)
    return None if value is None else str(value)


async def parties(conn: AsyncConnection, currency: str) -> list[Party]:
    """Every merchant and biller with a ledger account in ``currency``."""
    rows = await conn.execute(
        select(ledger_accounts.c.id, ledger_accounts.c.code, ledger_accounts.c.kind).where(
            ledger_accounts.c.kind.in_(list(ACCOUNT_KINDS)),
            ledger_accounts.c.currency == currency,
        )
    )
    found = []
    for row in rows:
        _, party_id, _ = row.code.split(":")
        found.append(Party(str(ACCOUNT_KINDS[row.kind]), party_id, int(row.id)))
    return found


@dataclass(frozen=True, slots=True)
class Prior:
    """A party's settlements before a day: where the next window starts, what is owed."""

    period_end: datetime
    owed: int  # carried out of the last row (fen)


async def prior_settlements(conn: AsyncConnection, day: date) -> dict[tuple[str, str], Prior]:
    """Per party with rows before ``day``: its last window's end and what is still owed."""
    paid = case((settlements.c.status == SettlementStatus.FAILED, 0), else_=settlements.c.amount)
    rows = await conn.execute(
        select(
            settlements.c.party_kind,
            settlements.c.party_id,
            func.max(settlements.c.period_end).label("period_end"),
            func.sum(settlements.c.net).label("net"),
            func.sum(paid).label("paid"),
        )
        .where(settlements.c.business_day < day.isoformat())
        .group_by(settlements.c.party_kind, settlements.c.party_id)
    )
    return {
        (row.party_kind, row.party_id): Prior(row.period_end, int(row.net) - int(row.paid))
        for row in rows
    }


async def settled_after(conn: AsyncConnection, day: date) -> set[tuple[str, str]]:
    """Parties with a settlement for a day later than ``day``: not settled back in time."""
    rows = await conn.execute(
        select(settlements.c.party_kind, settlements.c.party_id)
        .where(settlements.c.business_day > day.isoformat())
        .distinct()
    )
    return {(row.party_kind, row.party_id) for row in rows}


async def rows_for_day(conn: AsyncConnection, day: date) -> dict[tuple[str, str], SettlementView]:
    rows = await conn.execute(
        select(settlements).where(settlements.c.business_day == day.isoformat())
    )
    return {(row.party_kind, row.party_id): SettlementView.of(row) for row in rows}


@dataclass(frozen=True, slots=True)
class Activity:
    net: int  # the account's change in its normal direction, payouts excluded
    postings: int


async def window_activity(
    conn: AsyncConnection, account_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, Activity]:
    """Per party account: the postings of ``[start, end)`` other than payouts.

    Merchants and billers are liabilities (credit-normal): a credit (negative posting)
    raises what the wallet owes them.
    """
    if not account_ids:
        return {}
    rows = await conn.execute(
        select(
            ledger_postings.c.account_id,
            func.sum(ledger_postings.c.amount).label("amount"),
            func.count().label("postings"),
        )
        .join(ledger_transactions, ledger_transactions.c.id == ledger_postings.c.transaction_id)
        .where(
            ledger_postings.c.account_id.in_(list(account_ids)),
            ledger_postings.c.created_at >= start,
            ledger_postings.c.created_at < end,
            ledger_transactions.c.kind != PAYOUT_KIND,
        )
        .group_by(ledger_postings.c.account_id)
    )
    return {int(row.account_id): Activity(-int(row.amount), int(row.postings)) for row in rows}


@dataclass(frozen=True, slots=True)
class Totals:
    gross: int = 0
    refunds: int = 0
    fees: int = 0
    payments: int = 0


async def merchant_totals(
    conn: AsyncConnection, merchant_ids: Sequence[str], start: datetime, end: datetime
) -> dict[str, Totals]:
    """Payments, refunds and net fees of each merchant in ``[start, end)`` (the statement)."""
    if not merchant_ids:
        return {}
    ids = list(merchant_ids)
    paid = await conn.execute(
        select(
            payments.c.merchant_id,
            func.sum(payments.c.amount).label("gross"),
            func.sum(payments.c.fee).label("fees"),
            func.count().label("n"),
        )
        .where(
            payments.c.merchant_id.in_(ids),
            payments.c.created_at >= start,
            payments.c.created_at < end,
        )
        .group_by(payments.c.merchant_id)
    )
    totals: dict[str, dict[str, int]] = {}
    for row in paid:
        totals[row.merchant_id] = {
            "gross": int(row.gross),
            "fees": int(row.fees or 0),
            "payments": int(row.n),
            "refunds": 0,
        }
    refunded = await conn.execute(
        select(
            refunds.c.merchant_id,
            func.sum(refunds.c.amount).label("refunds"),
            func.sum(refunds.c.fee_returned).label("fee_returned"),
        )
        .where(
            refunds.c.merchant_id.in_(ids),
            refunds.c.created_at >= start,
            refunds.c.created_at < end,
        )
        .group_by(refunds.c.merchant_id)
    )
    for row in refunded:
        entry = totals.setdefault(
            row.merchant_id, {"gross": 0, "fees": 0, "payments": 0, "refunds": 0}
        )
        entry["refunds"] = int(row.refunds)
        entry["fees"] -= int(row.fee_returned or 0)
    return {key: Totals(**value) for key, value in totals.items()}


async def biller_totals(
    conn: AsyncConnection, biller_ids: Sequence[str], start: datetime, end: datetime
) -> dict[str, Totals]:
    """Bill payments of each biller in ``[start, end)``; failed ones count as refunded."""
    if not biller_ids:
        return {}
    failed = case(
        (bill_payments.c.status == BillPaymentStatus.FAILED, bill_payments.c.amount), else_=0
    )
    rows = await conn.execute(
        select(
            bill_payments.c.biller_id,
            func.sum(bill_payments.c.amount).label("gross"),
            func.sum(failed).label("refunds"),
            func.count().label("n"),
        )
        .where(
            bill_payments.c.biller_id.in_(list(biller_ids)),
            # Held for a risk review, or rejected: its money is not (or never was) in the
            # biller's account, so it is not in the net the run pays either.
            bill_payments.c.status.notin_(
                [BillPaymentStatus.UNDER_REVIEW, BillPaymentStatus.REJECTED]
            ),
            bill_payments.c.created_at >= start,
            bill_payments.c.created_at < end,
        )
        .group_by(bill_payments.c.biller_id)
    )
    return {row.biller_id: Totals(int(row.gross), int(row.refunds), 0, int(row.n)) for row in rows}


async def locked_available(conn: AsyncConnection, account_id: int) -> int:
    """The party account's available balance, under its row lock (what a payout may take)."""
    row = (
        await conn.execute(
            for_no_key_update(
                select(ledger_accounts.c.posted, ledger_accounts.c.pending_debits).where(
                    ledger_accounts.c.id == account_id
                )
            )
        )
    ).one()
    deltas = await conn.scalar(
        select(func.coalesce(func.sum(ledger_balance_deltas.c.amount), 0)).where(
            ledger_balance_deltas.c.account_id == account_id
        )
    )
    return int(row.posted) + int(deltas or 0) - int(row.pending_debits)


# ------------------------------------------------------------------------------ payout accounts


async def payout_target(conn: AsyncConnection, kind: str, party_id: str) -> PayoutTarget | None:
    row = (
        await conn.execute(
            select(payout_accounts).where(
                payout_accounts.c.party_kind == kind, payout_accounts.c.party_id == party_id
            )
        )
    ).first()
    if row is None:
        return None
    return PayoutTarget(row.account_number_encrypted, row.holder_name, row.bank_code, row.last4)


async def payout_targets(conn: AsyncConnection) -> dict[tuple[str, str], PayoutTarget]:
    rows = await conn.execute(select(payout_accounts))
    return {
        (row.party_kind, row.party_id): PayoutTarget(
            row.account_number_encrypted, row.holder_name, row.bank_code, row.last4
        )
        for row in rows
    }


async def payout_account(
    conn: AsyncConnection, kind: str, party_id: str
) -> PayoutAccountView | None:
    row = (
        await conn.execute(
            select(payout_accounts).where(
                payout_accounts.c.party_kind == kind, payout_accounts.c.party_id == party_id
            )
        )
    ).first()
    return None if row is None else PayoutAccountView.of(row)


async def save_payout_account(conn: AsyncConnection, values: dict[str, Any], now: datetime) -> None:
    key = and_(
        payout_accounts.c.party_kind == values["party_kind"],
        payout_accounts.c.party_id == values["party_id"],
    )
    changed = await conn.execute(
        update(payout_accounts).where(key).values(**values, updated_at=now)
    )
    if changed.rowcount == 0:
        await conn.execute(
            payout_accounts.insert().values(**values, created_at=now, updated_at=now)
        )


# ------------------------------------------------------------------------------ settlements


async def insert_settlement(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(settlements.insert().values(**values))


async def set_hold(conn: AsyncConnection, settlement_id: str, hold_id: str) -> None:
    await conn.execute(
        update(settlements).where(settlements.c.id == settlement_id).values(hold_id=hold_id)
    )


async def load(
    conn: AsyncConnection, settlement_id: str, *, party: tuple[str, str] | None = None
) -> SettlementView | None:
    statement = select(settlements).where(settlements.c.id == settlement_id)
    if party is not None:
        statement = statement.where(
            settlements.c.party_kind == party[0], settlements.c.party_id == party[1]
        )
    row = (await conn.execute(statement)).first()
    return None if row is None else SettlementView.of(row)


async def claim_final(
    conn: AsyncConnection,
    settlement_id: str,
    *,
    status: SettlementStatus,
    now: datetime,
    bank_reference: str | None = None,
    failure_reason: str | None = None,
) -> SettlementView | None:
    """Move an open settlement to ``status``; None if another run finished it first."""
    changed = await conn.execute(
        update(settlements)
        .where(settlements.c.id == settlement_id, settlements.c.status.in_(OPEN_STATUSES))
        .values(
            status=status,
            bank_reference=bank_reference,
            failure_reason=failure_reason,
            updated_at=now,
            finished_at=now,
        )
    )
    if changed.rowcount == 0:
        return None
    return await load(conn, settlement_id)


async def mark_pending(
    conn: AsyncConnection, settlement_id: str, *, reason: str, now: datetime
) -> None:
    await conn.execute(
        update(settlements)
        .where(
            settlements.c.id == settlement_id,
            settlements.c.status == SettlementStatus.PROCESSING,
        )
        .values(status=SettlementStatus.PENDING, failure_reason=reason[:200], updated_at=now)
    )


async def open_settlements(
    conn: AsyncConnection, *, day: date | None = None, limit: int = 1000
) -> list[SettlementView]:
    statement = select(settlements).where(settlements.c.status.in_(OPEN_STATUSES))
    if day is not None:
        statement = statement.where(settlements.c.business_day == day.isoformat())
    rows = await conn.execute(statement.order_by(settlements.c.created_at).limit(limit))
    return [SettlementView.of(row) for row in rows]


async def by_request_ids(
    conn: AsyncConnection, request_ids: Iterable[str]
) -> dict[str, SettlementView]:
    wanted = list(request_ids)
    if not wanted:
        return {}
    rows = await conn.execute(select(settlements).where(settlements.c.bank_request_id.in_(wanted)))
    return {row.bank_request_id: SettlementView.of(row) for row in rows}


async def paid_on(conn: AsyncConnection, start: datetime, end: datetime) -> list[SettlementView]:
    """Payouts the wallet finished as paid in ``[start, end)`` (reconciliation's other side)."""
    rows = await conn.execute(
        select(settlements).where(
            settlements.c.status == SettlementStatus.PAID,
            settlements.c.finished_at >= start,
            settlements.c.finished_at < end,
        )
    )
    return [SettlementView.of(row) for row in rows]


async def page_for_party(
    conn: AsyncConnection,
    kind: str,
    party_id: str,
    *,
    limit: int,
    before: tuple[str, str] | None,
) -> list[SettlementView]:
    """Newest business day first; ``before``: (day, id) of the last row of the previous page."""
    statement = select(settlements).where(
        settlements.c.party_kind == kind, settlements.c.party_id == party_id
    )
    if before is not None:
        day, last_id = before
        statement = statement.where(
            or_(
                settlements.c.business_day < day,
                and_(settlements.c.business_day == day, settlements.c.id < last_id),
            )
        )
    rows = await conn.execute(
        statement.order_by(settlements.c.business_day.desc(), settlements.c.id.desc()).limit(limit)
    )
    return [SettlementView.of(row) for row in rows]


async def statement_lines(
    conn: AsyncConnection, merchant_id: str, start: datetime, end: datetime
) -> list[StatementLine]:
    """The merchant's payments and refunds of ``[start, end)``, oldest first."""
    paid = await conn.execute(
        select(
            payments.c.id,
            payments.c.order_id,
            orders.c.out_trade_no,
            payments.c.created_at,
            payments.c.amount,
            payments.c.currency,
            payments.c.fee.label("fee"),
        )
        .join(orders, orders.c.id == payments.c.order_id)
        .where(
            payments.c.merchant_id == merchant_id,
            payments.c.created_at >= start,
            payments.c.created_at < end,
        )
    )
    lines = [
        StatementLine(
            "payment",
            row.id,
            row.order_id,
            row.out_trade_no,
            row.created_at,
            Money(int(row.amount), row.currency),
            Money(int(row.fee or 0), row.currency),
        )
        for row in paid
    ]
    refunded = await conn.execute(
        select(
            refunds.c.id,
            refunds.c.order_id,
            refunds.c.out_refund_no,
            refunds.c.created_at,
            refunds.c.amount,
            refunds.c.currency,
            refunds.c.fee_returned.label("fee"),
        ).where(
            refunds.c.merchant_id == merchant_id,
            refunds.c.created_at >= start,
            refunds.c.created_at < end,
        )
    )
    lines += [
        StatementLine(
            "refund",
            row.id,
            row.order_id,
            row.out_refund_no,
            row.created_at,
            Money(-int(row.amount), row.currency),
            Money(-int(row.fee or 0), row.currency),
        )
        for row in refunded
    ]
    lines.sort(key=lambda line: (line.occurred_at, line.id))
    return lines
