"""One reconciliation of a business day: bank file, PSP records, then pending items.

The order matters: the settlement file settles what it shows first (with the bank's own
reference), the PSPs next, and only then are the remaining pending card operations asked
about one by one and failed if the bank never saw them within the grace period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.funding.jobs import settle_funding_once
from ewallet.integrations.bank.port import BankGateway
from ewallet.integrations.psp import PspChannels
from ewallet.kit.clock import Clock
from ewallet.kit.errors import DomainError
from ewallet.ledger import Ledger
from ewallet.reconciliation.bank_side import BankReconciler
from ewallet.reconciliation.findings import Category, Finding, Tally
from ewallet.reconciliation.progress import Progress, Silent
from ewallet.reconciliation.psp_side import PspReconciler
from ewallet.reconciliation.store import RunView, close_run, get_run, open_run

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    engine: AsyncEngine
    ledger: Ledger
    clock: Clock
    gateway: BankGateway
    psp: PspChannels | None  # None: the PSPs cannot be asked from here (noted in the run)
    grace: timedelta

    async def run(self, day: date, *, actor: Actor, progress: Progress | None = None) -> RunView:
        """Reconcile ``day`` for ``actor`` (a staff member, or the system for the CLI)."""
        progress = progress or Silent()
        started_by = actor.id or actor.type
        run_id = await open_run(self.engine, clock=self.clock, day=day, started_by=started_by)
        tally = Tally()
        try:
            await BankReconciler(self.engine, self.ledger, self.clock, self.gateway).run(
                day, tally, progress
            )
            if self.psp is None:
                tally.notes.append(
                    "PSP records not compared: the sandbox PSPs live inside the API process; "
                    "run reconciliation from the staff API, or set EWALLET_PSP_*_URL"
                )
            else:
                await PspReconciler(self.engine, self.ledger, self.clock, self.psp).run(
                    day, tally, progress
                )
            await self._settle_pending(tally, progress)
        except DomainError as error:
            tally.notes.append(f"stopped: {error.code}: {error}")
            await close_run(
                self.engine, clock=self.clock, run_id=run_id, tally=tally, actor=actor, failed=True
            )
            raise
        await close_run(self.engine, clock=self.clock, run_id=run_id, tally=tally, actor=actor)
        view, _ = await get_run(self.engine, run_id)
        log.info("reconciliation.done", run_id=run_id, day=day.isoformat(), **tally.counts())
        return view

    async def _settle_pending(self, tally: Tally, progress: Progress) -> None:
        progress.phase("pending card top-ups and withdrawals", 1)
        settled = await settle_funding_once(
            self.engine,
            clock=self.clock,
            gateway=self.gateway,
            ledger=self.ledger,
            grace=self.grace,
        )
        outcomes = [
            (settled.topups.credited, "topup", Category.CREDITED),
            (settled.topups.failed, "topup", Category.FAILED),
            (settled.withdrawals.succeeded, "withdrawal", Category.POSTED),
            (settled.withdrawals.failed, "withdrawal", Category.FAILED),
            (settled.topups.errors, "topup", Category.UNRESOLVED),
            (settled.withdrawals.errors, "withdrawal", Category.UNRESOLVED),
        ]
        for ids, prefix, category in outcomes:
            for operation_id in ids:
                detail = "settled by querying the bank"
                if category is Category.UNRESOLVED:
                    detail = "the bank could not be asked"
                reference = f"{prefix}:{operation_id}"
                tally.add(Finding("bank", reference, category, None, None, "CNY", detail))
        progress.step()
