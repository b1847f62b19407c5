"""Reconcile a business day, and read the runs and what they found.

One run compares the bank's settlement file (:mod:`.bank_side`), then the PSPs' records
(:mod:`.psp_side`), then asks the bank about the card operations still pending. The order
matters: the settlement file settles what it shows first (with the bank's own reference),
the PSPs next, and only then are the remaining pending card operations asked about one by
one and failed if the bank never saw them within the grace period
(``EWALLET_BANK_UNKNOWN_GRACE_SECONDS``). The run, its findings and an audit event
(``reconciliation.completed`` or ``.failed``) are stored at the end.
"""

from __future__ import annotations

from datetime import date

import structlog

from ewallet.audit.service import Actor, record_event
from ewallet.funding.service import settle_funding_once, settle_grace
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.ids import new_id
from ewallet.models.reconciliation import RunStatus
from ewallet.reconciliation import repository
from ewallet.reconciliation.bank_side import BankReconciler
from ewallet.reconciliation.findings import Category, Finding, Tally
from ewallet.reconciliation.progress import Progress, Silent
from ewallet.reconciliation.psp_side import PspReconciler
from ewallet.reconciliation.views import ItemView, RunView
from ewallet.services import Services

log = structlog.get_logger(__name__)

PSP_NOT_COMPARED = (
    "PSP records not compared: the sandbox PSPs live inside the API process; "
    "run reconciliation from the staff API, or set EWALLET_PSP_*_URL"
)


async def run_reconciliation(
    services: Services,
    actor: Actor,
    *,
    day: date,
    compare_psp: bool = True,
    progress: Progress | None = None,
    run_id: str | None = None,
) -> RunView:
    """Reconcile ``day`` for ``actor`` (a staff member, or the system for the CLI).

    ``compare_psp`` False skips the PSPs' records (noted in the run): a process without the
    in-process sandbox PSPs cannot ask them. A refusal from the bank or a PSP stops the run,
    which is stored ``failed`` with what it found so far, and is raised. ``run_id`` names a
    run already opened (:func:`open_run`, for a run in the background); else one is opened.
    """
    progress = progress or Silent()
    if run_id is None:
        run_id = await open_run(services, day=day, started_by=actor.id or actor.type)
    tally = Tally()
    try:
        await BankReconciler(services).run(day, tally, progress)
        if compare_psp:
            await PspReconciler(services).run(day, tally, progress)
        else:
            tally.notes.append(PSP_NOT_COMPARED)
        await _settle_pending(services, tally, progress)
    except DomainError as error:
        tally.notes.append(f"stopped: {error.code}: {error}")
        await close_run(services, run_id, tally=tally, actor=actor, failed=True)
        raise
    await close_run(services, run_id, tally=tally, actor=actor)
    view, _ = await get_run(services, actor, run_id=run_id)
    log.info("reconciliation.done", run_id=run_id, day=day.isoformat(), **tally.counts())
    return view


async def _settle_pending(services: Services, tally: Tally, progress: Progress) -> None:
    progress.phase("pending card top-ups and withdrawals", 1)
    settled = await settle_funding_once(services, grace=settle_grace(services))
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


async def open_run(services: Services, *, day: date, started_by: str) -> str:
    """A new run of ``day``, ``running`` until it is closed with its findings."""
    run_id = new_id("rcn")

    async def work(uow: UnitOfWork) -> None:
        await repository.insert_run(
            await uow.connection(),
            run_id=run_id,
            day=day,
            started_by=started_by,
            now=services.clock.now(),
        )

    await run_unit(services.engine, work)
    return run_id


async def close_run(
    services: Services, run_id: str, *, tally: Tally, actor: Actor, failed: bool = False
) -> None:
    """Store the findings and the tally, audited; ``failed``: the run stopped part-way."""
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await repository.store_findings(conn, run_id, tally, now)
        status = RunStatus.FAILED if failed else RunStatus.COMPLETED
        await repository.finish_run(conn, run_id, status=status, tally=tally, now=now)
        await record_event(
            conn,
            clock=services.clock,
            actor=actor,
            action="reconciliation.failed" if failed else "reconciliation.completed",
            subject_type="reconciliation_run",
            subject_id=run_id,
            details=tally.counts(),
        )

    await run_unit(services.engine, work)


async def list_runs(
    services: Services, actor: Actor, *, day: date | None, limit: int
) -> list[RunView]:
    """Runs newest first (of ``day`` only, if given)."""

    async def work(uow: UnitOfWork) -> list[RunView]:
        return await repository.recent_runs(await uow.connection(), day=day, limit=limit)

    return await run_unit(services.engine, work, read_only=True)


async def get_run(
    services: Services, actor: Actor, *, run_id: str
) -> tuple[RunView, list[ItemView]]:
    """The run ``run_id`` and its findings; ``not_found`` for no such run."""

    async def work(uow: UnitOfWork) -> tuple[RunView, list[ItemView]]:
        conn = await uow.connection()
        run = await repository.load_run(conn, run_id)
        if run is None:
            raise NotFoundError("no such reconciliation run")
        return run, await repository.run_items(conn, run_id)

    return await run_unit(services.engine, work, read_only=True)
