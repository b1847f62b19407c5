"""Queries on ``step_up_challenges`` (Core, in the caller's transaction, no commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.stepup.views import ChallengeRow
from ewallet.kit.ids import new_id
from ewallet.models.tables import step_up_challenges as challenges


async def add_challenge(
    conn: AsyncConnection,
    *,
    user_id: str,
    purpose: str,
    methods: list[str],
    context: dict[str, Any],
    now: datetime,
    expires_at: datetime,
) -> str:
    challenge_id = new_id("chl")
    await conn.execute(
        insert(challenges).values(
            id=challenge_id,
            user_id=user_id,
            purpose=purpose,
            methods=methods,
            context=context,
            attempts=0,
            created_at=now,
            expires_at=expires_at,
            completed_at=None,
        )
    )
    return challenge_id


async def get_challenge(
    conn: AsyncConnection, challenge_id: str, *, for_update: bool = False
) -> ChallengeRow | None:
    statement = select(challenges).where(challenges.c.id == challenge_id)
    if for_update:
        statement = statement.with_for_update()
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return ChallengeRow(
        id=row.id,
        user_id=row.user_id,
        purpose=row.purpose,
        methods=list(row.methods),
        context=dict(row.context),
        attempts=int(row.attempts),
        expires_at=row.expires_at,
        completed_at=row.completed_at,
    )


async def count_challenge_attempt(conn: AsyncConnection, challenge_id: str) -> int:
    """One more wrong proof; returns the attempts so far."""
    result = await conn.execute(
        update(challenges)
        .where(challenges.c.id == challenge_id)
        .values(attempts=challenges.c.attempts + 1)
        .returning(challenges.c.attempts)
    )
    return int(result.scalar_one())


async def complete_challenge(
    conn: AsyncConnection, *, challenge_id: str, now: datetime, redeem_until: datetime
) -> bool:
    """Mark it passed; False if it was already completed (a concurrent proof)."""
    result = await conn.execute(
        update(challenges)
        .where(challenges.c.id == challenge_id, challenges.c.completed_at.is_(None))
        .values(completed_at=now, expires_at=redeem_until)
    )
    return result.rowcount == 1


async def redeem_challenge(
    conn: AsyncConnection, *, challenge_id: str, user_id: str, purpose: str, now: datetime
) -> dict[str, Any] | None:
    """Use a completed challenge once: its ``expires_at`` drops to now. Its context, or None."""
    row = (
        await conn.execute(
            update(challenges)
            .where(
                and_(
                    challenges.c.id == challenge_id,
                    challenges.c.user_id == user_id,
                    challenges.c.purpose == purpose,
                    challenges.c.completed_at.is_not(None),
                    challenges.c.expires_at > now,
                )
            )
            .values(expires_at=now)
            .returning(challenges.c.id, challenges.c.context)
        )
    ).first()
    return None if row is None else dict(row.context)
