"""App fixtures shared with the staff suites, and helpers of the help tests."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.models.help import HelpArticle, HelpArticleRevision, HelpFeedback
from tests.fixtures.staff_app import app, client, clock, fast_settings, security

__all__ = ["app", "client", "clock", "count_rows", "fast_settings", "security"]


async def count_rows(engine: AsyncEngine) -> dict[str, int]:
    """Rows of each help table: equal before and after = nothing was written."""
    counts = {}
    async with engine.connect() as conn:
        for model in (HelpArticle, HelpArticleRevision, HelpFeedback):
            table = cast(Table, model.__table__)
            counts[table.name] = int(
                await conn.scalar(select(func.count()).select_from(table)) or 0
            )
    return counts
