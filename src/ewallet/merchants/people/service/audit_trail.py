"""The merchant people's audit events: each change is recorded in its own transaction,
the subject a ``merchant_user``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.services import Services


async def audit(  # noqa: PLR0917 -- one call shape for every event here
    conn: AsyncConnection,
    services: Services,
    actor: Actor,
    action: str,
    subject_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    await record_event(
        conn,
        clock=services.clock,
        actor=actor,
        action=action,
        subject_type="merchant_user",
        subject_id=subject_id,
        details=details or {},
    )


async def audit_alone(
    services: Services,
    actor: Actor,
    action: str,
    subject_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    async def work(uow: UnitOfWork) -> None:
        await audit(await uow.connection(), services, actor, action, subject_id, details)

    await run_unit(services.engine, work)
