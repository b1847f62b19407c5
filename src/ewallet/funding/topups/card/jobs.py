"""Settling ``pending`` card top-ups by asking the bank what became of their one debit.

A card top-up whose debit answered ``unknown`` (timeout, 5xx, dropped connection) stays
``pending``. :func:`settle_pending_topups` -- run by the periodic job
(:mod:`ewallet.funding.jobs`), ``ewallet topups settle`` and reconciliation -- queries the
bank with each top-up's request id (``topup:<id>``; never a new debit):

- ``succeeded``: credit the wallet, exactly once (the ledger key ``topup:<id>`` and a
  conditional ``UPDATE`` on the status make any number of runs, even racing, credit once),
  and notify the user;
- ``declined``: ``failed`` with the bank's reason;
- ``not_found``: the debit never arrived -- but it might still be in flight, so only once
  the top-up is older than ``grace`` is it marked ``failed``; younger ones stay pending.

A query that fails (bank unreachable) leaves the top-up pending for the next run.
Reconciliation against the bank's settlement file catches anything later still.
Top-ups earmarked for a payment (an order's or a bill's card part) are not settled here:
their payment's own job settles them with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import structlog

from ewallet.funding.topups import repository
from ewallet.funding.topups.card.earmarked import repository as earmarked
from ewallet.funding.topups.card.service import (
    bank_request_id,
    credit_card_topup,
    mark_card_topup_failed,
)
from ewallet.funding.topups.views import CardTopup
from ewallet.kit.clock import as_utc
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.services import Services

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


async def settle_pending_topups(
    services: Services, *, grace: timedelta = DEFAULT_GRACE, limit: int = DEFAULT_BATCH
) -> SettleReport:
    """Query the bank about every pending card top-up (oldest ``limit``) and settle what it
    knows; safe to repeat and to race."""

    async def pending(uow: UnitOfWork) -> list[CardTopup]:
        conn = await uow.connection()
        found = await repository.pending_card_topups(conn, limit=limit)
        # A top-up funding a bill payment is settled with it (bills/card_funding), as one
        # funding an order's card payment is (skipped by the query itself).
        billed = await earmarked.bill_funding_topups(conn, [item.topup.id for item in found])
        return [item for item in found if item.topup.id not in billed]

    report = SettleReport()
    for item in await run_unit(services.engine, pending, read_only=True):
        report.examined += 1
        await _settle_one(services, item, grace, report)
    log.info(
        "funding.settle_done",
        examined=report.examined,
        credited=len(report.credited),
        failed=len(report.failed),
        pending=len(report.still_pending),
        errors=len(report.errors),
    )
    return report


async def _settle_one(
    services: Services, item: CardTopup, grace: timedelta, report: SettleReport
) -> None:
    topup, bank_code = item.topup, item.bank_code
    try:
        status = await services.bank.query(request_id=bank_request_id(topup.id))
    except DomainError as error:
        log.warning("funding.settle_query_failed", topup_id=topup.id, code=error.code)
        report.errors.append(topup.id)
        return
    if status.status == "succeeded":
        if status.amount is not None and status.amount != topup.amount:
            # Never credit what the bank did not debit: leave it for reconciliation.
            log.error("funding.settle_amount_mismatch", topup_id=topup.id)
            report.errors.append(topup.id)
            return
        outcome = await credit_card_topup(
            services, topup=topup, bank_code=bank_code, bank_reference=status.bank_reference
        )
        if outcome == "credited":
            report.credited.append(topup.id)
        return
    too_old = services.clock.now() - as_utc(topup.created_at) >= grace
    if status.status == "declined" or too_old:
        declined = status.status == "declined"
        reason = (status.reason or "declined") if declined else "not_found"
        failed = await mark_card_topup_failed(
            services, topup, bank_code=bank_code, reason=reason, notify=True
        )
        if failed:
            report.failed.append(topup.id)
        return
    report.still_pending.append(topup.id)
