"""Migration 0044 on a database with watch-list entries (SQLite and PostgreSQL): entries whose
stored forms were computed with pypinyin's phrase dictionary get the forms the code computes
now, so a screened name meets them; entries already right are left untouched; downgrading
changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.db.base import UTCDateTime
from ewallet.risk.watchlist.normalise import normalise_name
from tests.integration.test_migrations import empty_database_url, empty_engine
from tests.merchants.test_api_key_migration import move

__all__ = ["empty_database_url", "empty_engine"]

WHEN = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

loads = sa.table(
    "watchlist_loads",
    sa.column("id"),
    sa.column("version"),
    sa.column("list_name"),
    sa.column("file_name"),
    sa.column("mode"),
    sa.column("entries_added"),
    sa.column("entries_removed"),
    sa.column("loaded_by"),
    sa.column("loaded_at", UTCDateTime()),
)
entries = sa.table(
    "watchlist_entries",
    sa.column("id"),
    sa.column("list_name"),
    sa.column("name"),
    sa.column("name_han"),
    sa.column("name_keys"),
    sa.column("batch_id"),
    sa.column("loaded_at", UTCDateTime()),
)
# What the phrase dictionary's reading stored (name, han, keys), then what is right now.
STORED_BEFORE = {
    "wle_1": ("陆佰", "陆佰", "liu bai"),  # 陆佰 is "eight hundred" in the dictionary
    "wle_2": ("贾人", "贾人", "gu ren"),
    "wle_3": ("李长青", "李长青", "li chang qing"),  # right then, right now
    "wle_4": ("ZHANG San", None, "zhang san"),
    "wle_5": ("单姓", "单姓", "shan xing"),  # now also the everyday reading first
}


async def stored(engine: AsyncEngine) -> dict[str, tuple[str, str | None, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(entries.c.id, entries.c.name, entries.c.name_han, entries.c.name_keys)
        )
        return {row.id: (row.name, row.name_han, row.name_keys) for row in rows}


async def test_entries_get_the_forms_screening_computes(empty_engine: AsyncEngine) -> None:
    engine = empty_engine
    await move(engine, "0043")
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(loads),
            [
                {
                    "id": "wll_1",
                    "version": 1,
                    "list_name": "sanctions",
                    "file_name": "list.csv",
                    "mode": "append",
                    "entries_added": len(STORED_BEFORE),
                    "entries_removed": 0,
                    "loaded_by": "staff:s1",
                    "loaded_at": WHEN,
                }
            ],
        )
        await conn.execute(
            sa.insert(entries),
            [
                {
                    "id": entry_id,
                    "list_name": "sanctions",
                    "name": name,
                    "name_han": han,
                    "name_keys": keys,
                    "batch_id": "wll_1",
                    "loaded_at": WHEN,
                }
                for entry_id, (name, han, keys) in STORED_BEFORE.items()
            ],
        )

    await move(engine, "0044")

    after = await stored(engine)
    assert after == {
        "wle_1": ("陆佰", "陆佰", "lu bai"),
        "wle_2": ("贾人", "贾人", "jia ren"),
        "wle_3": ("李长青", "李长青", "li chang qing"),
        "wle_4": ("ZHANG San", None, "zhang san"),
        "wle_5": ("单姓", "单姓", "dan xing|shan xing"),
    }
    for name, han, keys in after.values():
        now = normalise_name(name)
        assert (han, keys) == (now.han, "|".join(now.keys))

    await move(engine, "0043", up=False)
    assert await stored(engine) == after
