"""Settling ``pending`` card top-ups by asking the bank what became of their one debit.

A card top-up whose debit answered ``unknown`` (timeout, 5xx, dropped connection) stays
``pending``. :func:`settle_pending_topups` -- run by a job or ``ewallet topups settle`` --
queries the bank with each top-up's request id (``topup:<id>``; never a new debit):

- ``succeeded``: credit the wallet, exactly once (the ledger key ``topup:<id>`` and a
  conditional ``UPDATE`` on the status make any number of runs, even racing, credit once),
  and notify the user;
- ``declined``: ``failed`` with the bank's reason;
- ``not_found``: the debit never arrived -- but it might still be in flight, so only once
  the top-up is older than ``grace`` is it marked ``failed``; younger ones stay pending.

A query that fails (bank unreachable) leaves the top-up pending for the next run.
Reconciliation against the bank's settlement file catches anything later still.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.funding.card_topups import bank_request_id, credit_card_topup, mark_card_topup_failed
from ewallet.funding.service import TopupView
from ewallet.integrations.bank.port import BankGateway
from ewallet.kit.clock import Clock, as_utc
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.ledger import Ledger
from ewallet.models.tables import cards, topups

log = structlog.get_logger(__name__)

DEFAULT_GRACE: Final = timedelta(minutes=30)
DEFAULT_BATCH: Final = 500


@dataclass(slots=True)
class SettleReport:
    """What one run did, by top-up id."""

    examined: int = 0
    credited: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _pending(engine: AsyncEngine, limit: int) -> list[tuple[TopupView, str]]:
    async def work(uow: UnitOfWork) -> list[tuple[TopupView, str]]:
        conn = await uow.connection()
        rows = await conn.execute(
            select(topups, cards.c.bank_code)
            .join(cards, cards.c.id == topups.c.card_id)
            .where(topups.c.method == "card", topups.c.status == "pending")
            .order_by(topups.c.created_at, topups.c.id)
            .limit(limit)
        )
        return [(TopupView.of(row), str(row.bank_code)) for row in rows]

    return await run_unit(engine, work, read_only=True)


async def settle_pending_topups(
    engine: AsyncEngine,
    *,
    clock: Clock,
    gateway: BankGateway,
    ledger: Ledger | None = None,
    grace: timedelta = DEFAULT_GRACE,
    limit: int = DEFAULT_BATCH,
) -> SettleReport:
    """Query the bank about every pending card top-up and settle what it knows."""
    ledger = ledger or Ledger(engine, clock=clock)
    report = SettleReport()
    for topup, bank_code in await _pending(engine, limit):
        report.examined += 1
        try:
            status = await gateway.query(request_id=bank_request_id(topup.id))
        except DomainError as error:
            log.warning("funding.settle_query_failed", topup_id=topup.id, code=error.code)
            report.errors.append(topup.id)
            continue
        if status.status == "succeeded":
            if status.amount is not None and status.amount != topup.amount:
                # Never credit what the bank did not debit: leave it for reconciliation.
                log.error("funding.settle_amount_mismatch", topup_id=topup.id)
                report.errors.append(topup.id)
                continue
            outcome = await credit_card_topup(
                engine,
                ledger,
                clock=clock,
                topup=topup,
                bank_code=bank_code,
                bank_reference=status.bank_reference,
            )
            if outcome == "credited":
                report.credited.append(topup.id)
            continue
        too_old = clock.now() - as_utc(topup.created_at) >= grace
        if status.status == "declined" or too_old:
            declined = status.status == "declined"
            reason = (status.reason or "declined") if declined else "not_found"
            failed = await mark_card_topup_failed(
                engine, ledger, clock, topup, bank_code=bank_code, reason=reason, notify=True
            )
            if failed:
                report.failed.append(topup.id)
            continue
        report.still_pending.append(topup.id)
    log.info(
        "funding.settle_done",
        examined=report.examined,
        credited=len(report.credited),
        failed=len(report.failed),
        pending=len(report.still_pending),
        errors=len(report.errors),
    )
    return report
