"""A reconciliation run started from the console: it goes on in the background and the page
follows it.

``start_reconciliation`` opens the run (``running``) and returns at once; the run itself
(:func:`~ewallet.reconciliation.service.run_reconciliation`, the same as the staff API's and
the CLI's) goes on in a task of this process. Every half second its progress -- the phase,
how many of the phase's items are done -- is written to the run's row (``counts.progress``),
so a page served by any API process can show it; the findings and the tally replace it when
the run ends. If the process stops part-way the run stays ``running`` with progress that no
longer moves: the page says so (``stalled``) and the operator starts another; a run only
reads and settles what the bank and PSPs confirm, so running a day twice is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta
from typing import Final

import structlog

from ewallet.audit.service import Actor
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, ValidationFailedError
from ewallet.models.reconciliation import RunStatus
from ewallet.reconciliation import repository
from ewallet.reconciliation.findings import Tally
from ewallet.reconciliation.progress import Recorded
from ewallet.reconciliation.service import close_run, open_run, run_reconciliation
from ewallet.reconciliation.views import RunView
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services

log = structlog.get_logger(__name__)

FLUSH_SECONDS: Final = 0.5
# A running run whose progress has not moved for this long is shown as stalled.
STALLED_AFTER: Final = timedelta(minutes=10)
_running: set[asyncio.Task[None]] = set()  # strong references until each run ends


async def start_reconciliation(services: Services, actor: Actor, *, day: date) -> str:
    """Open a run of ``day`` for ``actor`` and carry it out in the background; its id.
    A day that has not begun yet in Beijing is ``422 validation_error`` (nothing opened)."""
    if day > services.clock.now().astimezone(CHINA_TIME).date():
        raise ValidationFailedError("that business day has not begun yet")
    run_id = await open_run(services, day=day, started_by=actor.id or actor.type)
    task = asyncio.create_task(_carry_out(services, actor, run_id, day), name=f"recon-{run_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)
    return run_id


def is_stalled(run: RunView, now: datetime) -> bool:
    """A run still ``running`` whose recorded progress has not moved for a while (the
    process carrying it out stopped)."""
    if run.status != RunStatus.RUNNING:
        return False
    progress = run.counts.get("progress") if isinstance(run.counts, dict) else None
    moment = progress.get("at") if isinstance(progress, dict) else None
    last = datetime.fromisoformat(moment) if isinstance(moment, str) else run.started_at
    return now - last > STALLED_AFTER


async def _carry_out(services: Services, actor: Actor, run_id: str, day: date) -> None:
    progress = Recorded()
    flusher = asyncio.create_task(_flush(services, run_id, progress))
    try:
        await run_reconciliation(services, actor, day=day, progress=progress, run_id=run_id)
    except DomainError:
        pass  # stored as failed, with what stopped it, by run_reconciliation
    except Exception:
        log.exception("reconciliation.background_failed", run_id=run_id)
        tally = Tally(notes=["stopped: an internal error; see the server log"])
        await close_run(services, run_id, tally=tally, actor=actor, failed=True)
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher


async def _flush(services: Services, run_id: str, progress: Recorded) -> None:
    while True:
        document = progress.snapshot() | {"at": services.clock.now().isoformat()}

        async def work(uow: UnitOfWork, document: dict[str, object] = document) -> None:
            await repository.record_progress(await uow.connection(), run_id, document)

        await run_unit(services.engine, work)
        await asyncio.sleep(FLUSH_SECONDS)
