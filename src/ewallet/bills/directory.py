"""The biller directory in the database: the default billers written at start, and reads.

The default billers (:mod:`ewallet.integrations.biller.directory`) are written to the
``billers`` table when the app starts (missing rows only, so an operator's later edits
survive a restart, and a database emptied or restored elsewhere gets them back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.integrations.biller.directory import DEFAULT_BILLERS, BillerSpec
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.models.tables import billers

log = structlog.get_logger(__name__)


def _row(spec: BillerSpec, clock: Clock) -> dict[str, Any]:
    return {
        "id": spec.id,
        "category": spec.category,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "region": spec.region,
        "account_pattern": spec.account_pattern,
        "account_hint_zh": spec.account_hint_zh,
        "account_hint_en": spec.account_hint_en,
        "check_digit": spec.check_digit,
        "fixed_amounts": None if spec.fixed_amounts is None else list(spec.fixed_amounts),
        "status": spec.status,
        "sort_order": spec.sort_order,
        "created_at": clock.now(),
    }


async def seed_directory(
    engine: AsyncEngine, *, clock: Clock, specs: Sequence[BillerSpec] = DEFAULT_BILLERS
) -> int:
    """Write the default billers that are missing; the number written.

    Two processes starting together may race: the loser's insert meets the primary key and
    is dropped (the winner wrote the same rows). An unmigrated or unreachable database is
    logged and ignored, so it never stops the app from starting; readiness reports it.
    """

    async def work(uow: UnitOfWork) -> int:
        conn = await uow.connection()
        present = set((await conn.execute(select(billers.c.id))).scalars())
        missing = [_row(spec, clock) for spec in specs if spec.id not in present]
        if missing:
            await conn.execute(insert(billers), missing)
        return len(missing)

    try:
        written = await run_unit(engine, work)
    except IntegrityError:
        return 0
    except (SQLAlchemyError, OSError) as error:
        log.warning("bills.directory_not_seeded", error=type(error).__name__)
        return 0
    if written:
        log.info("bills.directory_seeded", billers=written)
    return written


async def list_billers(engine: AsyncEngine, *, category: str | None) -> list[BillerSpec]:
    """Active billers, by category then the directory's order."""

    async def work(uow: UnitOfWork) -> list[BillerSpec]:
        conn = await uow.connection()
        statement = select(billers).where(billers.c.status == "active")
        if category is not None:
            statement = statement.where(billers.c.category == category)
        statement = statement.order_by(billers.c.category, billers.c.sort_order, billers.c.id)
        return [BillerSpec.of(row) for row in await conn.execute(statement)]

    return await run_unit(engine, work, read_only=True)


async def get_biller(engine: AsyncEngine, biller_id: str) -> BillerSpec:
    """An active biller, or ``not_found``."""

    async def work(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        return (await conn.execute(select(billers).where(billers.c.id == biller_id))).first()

    row = await run_unit(engine, work, read_only=True)
    if row is None or row.status != "active":
        raise NotFoundError("no such biller")
    return BillerSpec.of(row)


async def get_biller_any(engine: AsyncEngine, biller_id: str) -> BillerSpec:
    """A biller whether active or not (a receipt names the biller it was paid to)."""

    async def work(uow: UnitOfWork) -> BillerSpec:
        return await biller_in(await uow.connection(), biller_id)

    return await run_unit(engine, work, read_only=True)


async def biller_in(conn: AsyncConnection, biller_id: str) -> BillerSpec:
    """A biller read on the caller's connection (active or not: past payments name it)."""
    row = (await conn.execute(select(billers).where(billers.c.id == biller_id))).one()
    return BillerSpec.of(row)
