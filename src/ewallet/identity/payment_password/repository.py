"""Queries of the PIN's attempt budget on ``users`` (Core, no commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import users


@dataclass(frozen=True, slots=True)
class BudgetState:
    """The PIN budget's columns of a user, as last committed."""

    failures: int
    checks_in_flight: int
    checks_since: datetime | None
    locked_until: datetime | None


async def budget_state(conn: AsyncConnection, user_id: str) -> BudgetState | None:
    """Read without any lock (a check waiting for a free slot polls this)."""
    row = (
        await conn.execute(
            select(
                users.c.payment_failures,
                users.c.payment_checks_in_flight,
                users.c.payment_checks_since,
                users.c.payment_locked_until,
            ).where(users.c.id == user_id)
        )
    ).first()
    if row is None:
        return None
    return BudgetState(
        int(row.payment_failures),
        int(row.payment_checks_in_flight),
        row.payment_checks_since,
        row.payment_locked_until,
    )
