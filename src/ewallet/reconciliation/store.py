"""Reconciliation runs and their findings in the database (read by the staff API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.models.tables import reconciliation_items as items
from ewallet.models.tables import reconciliation_runs as runs
from ewallet.reconciliation.findings import Tally


@dataclass(frozen=True, slots=True)
class RunView:
    id: str
    business_day: str
    status: str
    started_by: str
    counts: dict[str, Any]
    notes: list[Any]
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> RunView:
        return cls(
            id=row.id,
            business_day=row.business_day,
            status=row.status,
            started_by=row.started_by,
            counts=dict(row.counts),
            notes=list(row.notes),
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


async def open_run(engine: AsyncEngine, *, clock: Clock, day: date, started_by: str) -> str:
    run_id = new_id("rcn")

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await conn.execute(
            insert(runs).values(
                id=run_id,
                business_day=day.isoformat(),
                status="running",
                started_by=started_by[:64],
                counts={},
                notes=[],
                started_at=clock.now(),
                finished_at=None,
            )
        )

    await run_unit(engine, work)
    return run_id


async def close_run(
    engine: AsyncEngine,
    *,
    clock: Clock,
    run_id: str,
    tally: Tally,
    actor: Actor,
    failed: bool = False,
) -> None:
    """Store the findings and the tally, audited; ``failed``: the run stopped part-way."""
    now = clock.now()

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        if tally.findings:
            await conn.execute(
                insert(items),
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
        await conn.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(
                status="failed" if failed else "completed",
                counts=tally.counts(),
                notes=list(tally.notes),
                finished_at=now,
            )
        )
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="reconciliation.failed" if failed else "reconciliation.completed",
            subject_type="reconciliation_run",
            subject_id=run_id,
            details=tally.counts(),
        )

    await run_unit(engine, work)


async def list_runs(engine: AsyncEngine, *, day: date | None, limit: int) -> list[RunView]:
    async def work(uow: UnitOfWork) -> list[RunView]:
        conn = await uow.connection()
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        if day is not None:
            query = query.where(runs.c.business_day == day.isoformat())
        return [RunView.of(row) for row in await conn.execute(query)]

    return await run_unit(engine, work, read_only=True)


async def get_run(engine: AsyncEngine, run_id: str) -> tuple[RunView, list[Any]]:
    async def work(uow: UnitOfWork) -> tuple[RunView, list[Any]]:
        conn = await uow.connection()
        row = (await conn.execute(select(runs).where(runs.c.id == run_id))).first()
        if row is None:
            raise NotFoundError("no such reconciliation run")
        found = await conn.execute(
            select(items).where(items.c.run_id == run_id).order_by(items.c.id)
        )
        return RunView.of(row), list(found)

    return await run_unit(engine, work, read_only=True)
