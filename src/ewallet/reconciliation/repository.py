"""Every statement of reconciliation: its runs and findings, and what it reads of the
wallet's card top-ups, withdrawals and PSP top-ups to compare them with the outside.

Functions take the unit's connection and return typed values (:mod:`.views`, and the
funding views the top-up and withdrawal rows become).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.funding.topups.views import CardTopup, TopupView
from ewallet.funding.withdrawals.views import WithdrawalView
from ewallet.kit.ids import new_id
from ewallet.ledger import repository as ledger_repository
from ewallet.models.funding import TopupMethod, TopupStatus, WithdrawalStatus
from ewallet.models.reconciliation import RunStatus
from ewallet.models.tables import cards, topups, withdrawals
from ewallet.models.tables import reconciliation_items as items
from ewallet.models.tables import reconciliation_runs as runs
from ewallet.reconciliation.findings import Tally
from ewallet.reconciliation.views import ItemView, RunView

PSP_METHODS = (TopupMethod.ALIPAY, TopupMethod.WECHAT_PAY)

# ------------------------------------------------------------------------------ runs


async def insert_run(
    conn: AsyncConnection, *, run_id: str, day: date, started_by: str, now: datetime
) -> None:
    await conn.execute(
        runs.insert().values(
            id=run_id,
            business_day=day.isoformat(),
            status=RunStatus.RUNNING,
            started_by=started_by[:64],
            counts={},
            notes=[],
            started_at=now,
            finished_at=None,
        )
    )


async def store_findings(conn: AsyncConnection, run_id: str, tally: Tally, now: datetime) -> None:
    """One ``reconciliation_items`` row per finding of ``tally``."""
    if not tally.findings:
        return
    await conn.execute(
        items.insert(),
        [
            {
                "id": new_id("rci"),
                "run_id": run_id,
                "source": finding.source,
                "reference": finding.reference[:120],
                "category": finding.category.value,
                "needs_action": finding.needs_action,
                "wallet_amount": finding.wallet_amount,
                "external_amount": finding.external_amount,
                "currency": finding.currency,
                "detail": finding.detail[:300],
                "created_at": now,
            }
            for finding in tally.findings
        ],
    )


async def finish_run(
    conn: AsyncConnection, run_id: str, *, status: RunStatus, tally: Tally, now: datetime
) -> None:
    await conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(status=status, counts=tally.counts(), notes=list(tally.notes), finished_at=now)
    )


async def record_progress(conn: AsyncConnection, run_id: str, progress: dict[str, Any]) -> None:
    """While a run is ``running`` its ``counts`` hold ``{"progress": ...}``; the tally
    replaces them when it ends (a finished run is never touched)."""
    await conn.execute(
        update(runs)
        .where(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING)
        .values(counts={"progress": progress})
    )


async def recent_runs(conn: AsyncConnection, *, day: date | None, limit: int) -> list[RunView]:
    """Runs newest first, of ``day`` only if given."""
    query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
    if day is not None:
        query = query.where(runs.c.business_day == day.isoformat())
    return [RunView.of(row) for row in await conn.execute(query)]


async def load_run(conn: AsyncConnection, run_id: str) -> RunView | None:
    row = (await conn.execute(select(runs).where(runs.c.id == run_id))).first()
    return None if row is None else RunView.of(row)


async def run_items(conn: AsyncConnection, run_id: str) -> list[ItemView]:
    query = select(items).where(items.c.run_id == run_id).order_by(items.c.id)
    return [ItemView.of(row) for row in await conn.execute(query)]


# ------------------------------------------------------------------------------ the wallet's side


async def card_topup(conn: AsyncConnection, topup_id: str) -> CardTopup | None:
    """The card top-up ``topup_id`` with its card's bank."""
    row = (
        await conn.execute(
            select(topups, cards.c.bank_code)
            .join(cards, cards.c.id == topups.c.card_id)
            .where(topups.c.id == topup_id, topups.c.method == TopupMethod.CARD)
        )
    ).first()
    return None if row is None else CardTopup(TopupView.of(row), str(row.bank_code))


async def withdrawal(conn: AsyncConnection, withdrawal_id: str) -> WithdrawalView | None:
    row = (await conn.execute(select(withdrawals).where(withdrawals.c.id == withdrawal_id))).first()
    return None if row is None else WithdrawalView.of(row)


async def completed_card_operations(
    conn: AsyncConnection, start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """Request ids and amounts of the card top-ups and withdrawals that succeeded in
    [start, end), sorted."""
    topup_rows = await conn.execute(
        select(topups.c.id, topups.c.amount).where(
            and_(
                topups.c.method == TopupMethod.CARD,
                topups.c.status == TopupStatus.SUCCEEDED,
                topups.c.completed_at >= start,
                topups.c.completed_at < end,
            )
        )
    )
    withdrawal_rows = await conn.execute(
        select(withdrawals.c.id, withdrawals.c.amount).where(
            and_(
                withdrawals.c.status == WithdrawalStatus.SUCCEEDED,
                withdrawals.c.completed_at >= start,
                withdrawals.c.completed_at < end,
            )
        )
    )
    found = [(f"topup:{row.id}", int(row.amount)) for row in topup_rows] + [
        (f"withdrawal:{row.id}", int(row.amount)) for row in withdrawal_rows
    ]
    return sorted(found)


async def psp_topups_created(
    conn: AsyncConnection, start: datetime, end: datetime
) -> list[TopupView]:
    """Alipay and WeChat Pay top-ups created in [start, end), oldest first."""
    rows = await conn.execute(
        select(topups)
        .where(
            topups.c.method.in_(PSP_METHODS),
            topups.c.created_at >= start,
            topups.c.created_at < end,
        )
        .order_by(topups.c.created_at, topups.c.id)
    )
    return [TopupView.of(row) for row in rows]


async def has_ledger_entry(conn: AsyncConnection, key: str) -> bool:
    """Whether the ledger holds a transaction with the idempotency key ``key``."""
    return key in await ledger_repository.find_transaction_keys(conn, [key])
