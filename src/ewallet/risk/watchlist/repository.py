"""All SQL of the watch list (Core, in the caller's transaction, no commits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.risk_watchlist import HitState
from ewallet.models.tables import users, watchlist_entries, watchlist_hits, watchlist_loads
from ewallet.risk.watchlist.matcher import IndexedEntry
from ewallet.risk.watchlist.views import WatchlistHitView, WatchlistLoadView

INSERT_CHUNK: Final = 2_000
KEY_SEPARATOR: Final = "|"
# pg_advisory_xact_lock key of watch-list loads: "watchlst" as a 64-bit integer.
_LOADS_LOCK: Final = int.from_bytes(b"watchlst", "big") & 0x7FFF_FFFF_FFFF_FFFF


async def current_version(conn: AsyncConnection) -> int:
    """The list's version: the last load's (0 before any); one read of a unique index."""
    version = await conn.scalar(select(func.max(watchlist_loads.c.version)))
    return int(version or 0)


async def serialize_loads(conn: AsyncConnection) -> None:
    """Let one load run at a time, so versions follow each other (PostgreSQL: an advisory
    lock until the transaction ends; SQLite: the write lock already does it)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOADS_LOCK})


async def count_entries(conn: AsyncConnection, list_name: str) -> int:
    found = await conn.scalar(
        select(func.count())
        .select_from(watchlist_entries)
        .where(watchlist_entries.c.list_name == list_name)
    )
    return int(found or 0)


async def delete_entries(conn: AsyncConnection, list_name: str) -> int:
    """Delete every entry of ``list_name``; how many there were."""
    result = await conn.execute(
        delete(watchlist_entries).where(watchlist_entries.c.list_name == list_name)
    )
    return int(result.rowcount or 0)


async def insert_load(
    conn: AsyncConnection,
    *,
    load_id: str,
    version: int,
    list_name: str,
    file_name: str,
    mode: str,
    added: int,
    removed: int,
    loaded_by: str,
    now: datetime,
) -> None:
    await conn.execute(
        insert(watchlist_loads).values(
            id=load_id,
            version=version,
            list_name=list_name,
            file_name=file_name,
            mode=mode,
            entries_added=added,
            entries_removed=removed,
            loaded_by=loaded_by,
            loaded_at=now,
        )
    )


async def insert_entries(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (column values of ``watchlist_entries``) a few thousand at a time."""
    for start in range(0, len(rows), INSERT_CHUNK):
        await conn.execute(insert(watchlist_entries), list(rows[start : start + INSERT_CHUNK]))


async def all_entries(conn: AsyncConnection) -> list[IndexedEntry]:
    """Every entry of every list, as the in-memory index holds them."""
    columns = watchlist_entries.c
    result = await conn.stream(
        select(
            columns.id,
            columns.list_name,
            columns.name,
            columns.name_han,
            columns.name_keys,
            columns.date_of_birth,
            columns.id_number_digest,
        ).execution_options(yield_per=5_000)
    )
    entries: list[IndexedEntry] = []
    async for row in result:
        entries.append(
            IndexedEntry(
                id=row.id,
                list_name=row.list_name,
                name=row.name,
                han=row.name_han,
                keys=tuple(row.name_keys.split(KEY_SEPARATOR)),
                date_of_birth=row.date_of_birth,
                id_number_digest=row.id_number_digest,
            )
        )
    return entries


@dataclass(frozen=True, slots=True)
class NewHit:
    """One ``watchlist_hits`` row to write (open, undecided)."""

    id: str
    entry: IndexedEntry
    score: int
    basis: str
    screened_name_encrypted: str


async def insert_hits(
    conn: AsyncConnection,
    hits: Sequence[NewHit],
    *,
    subject_type: str,
    subject_id: str,
    context: str,
    screened_name_masked: str,
    now: datetime,
) -> None:
    """Write the hits of one screening in one statement."""
    await conn.execute(
        insert(watchlist_hits),
        [
            {
                "id": hit.id,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "context": context,
                "screened_name_encrypted": hit.screened_name_encrypted,
                "screened_name_masked": screened_name_masked,
                "entry_id": hit.entry.id,
                "list_name": hit.entry.list_name,
                "entry_name": hit.entry.name,
                "score": hit.score,
                "basis": hit.basis,
                "state": HitState.OPEN.value,
                "created_at": now,
                "decided_by": None,
                "decided_at": None,
                "note": None,
            }
            for hit in hits
        ],
    )


def _hit_view(row: Any) -> WatchlistHitView:
    return WatchlistHitView(
        id=row.id,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        context=row.context,
        screened_name_masked=row.screened_name_masked,
        entry_id=row.entry_id,
        list_name=row.list_name,
        entry_name=row.entry_name,
        score=row.score,
        basis=row.basis,
        state=row.state,
        created_at=row.created_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        note=row.note,
    )


def _hit_columns() -> list[Any]:
    return [c for c in watchlist_hits.c if c.name != "screened_name_encrypted"]


async def list_hits(
    conn: AsyncConnection,
    *,
    state: HitState | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[WatchlistHitView]:
    """Up to ``limit`` hits newest first, after the position ``(created_at, id)``."""
    query = select(*_hit_columns())
    if state is not None:
        query = query.where(watchlist_hits.c.state == state.value)
    if after is not None:
        created_at, hit_id = after
        query = query.where(
            or_(
                watchlist_hits.c.created_at < created_at,
                and_(watchlist_hits.c.created_at == created_at, watchlist_hits.c.id < hit_id),
            )
        )
    query = query.order_by(watchlist_hits.c.created_at.desc(), watchlist_hits.c.id.desc())
    rows = (await conn.execute(query.limit(limit))).all()
    return [_hit_view(row) for row in rows]


async def get_hit(conn: AsyncConnection, hit_id: str) -> WatchlistHitView | None:
    row = (await conn.execute(select(*_hit_columns()).where(watchlist_hits.c.id == hit_id))).first()
    return None if row is None else _hit_view(row)


async def decide_hit(
    conn: AsyncConnection, *, hit_id: str, state: HitState, by: str, at: datetime, note: str
) -> bool:
    """Move an open hit to ``state``; False if it is not open (any more)."""
    result = await conn.execute(
        update(watchlist_hits)
        .where(watchlist_hits.c.id == hit_id, watchlist_hits.c.state == HitState.OPEN.value)
        .values(state=state.value, decided_by=by, decided_at=at, note=note)
    )
    return bool(result.rowcount)


async def list_loads(
    conn: AsyncConnection, *, after: tuple[datetime, str] | None, limit: int
) -> list[WatchlistLoadView]:
    """Up to ``limit`` loads newest first, after the position ``(loaded_at, id)``."""
    query = select(watchlist_loads)
    if after is not None:
        loaded_at, load_id = after
        query = query.where(
            or_(
                watchlist_loads.c.loaded_at < loaded_at,
                and_(watchlist_loads.c.loaded_at == loaded_at, watchlist_loads.c.id < load_id),
            )
        )
    query = query.order_by(watchlist_loads.c.loaded_at.desc(), watchlist_loads.c.id.desc())
    rows = (await conn.execute(query.limit(limit))).all()
    return [
        WatchlistLoadView(
            id=row.id,
            version=row.version,
            list_name=row.list_name,
            file_name=row.file_name,
            mode=row.mode,
            entries_added=row.entries_added,
            entries_removed=row.entries_removed,
            loaded_by=row.loaded_by,
            loaded_at=row.loaded_at,
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class VerifiedIdentityRow:
    """A verified owner's encrypted real name and ID number, and the ID number's digest."""

    real_name_encrypted: str
    id_number_encrypted: str | None
    id_number_digest: str | None


async def verified_identity(conn: AsyncConnection, user_id: str) -> VerifiedIdentityRow | None:
    """The user's verified identity, or None (no such user, or not verified)."""
    row = (
        await conn.execute(
            select(
                users.c.real_name_encrypted,
                users.c.id_number_encrypted,
                users.c.id_number_digest,
            ).where(users.c.id == user_id, users.c.identity_verified_at.is_not(None))
        )
    ).first()
    if row is None or row.real_name_encrypted is None:
        return None
    return VerifiedIdentityRow(
        row.real_name_encrypted, row.id_number_encrypted, row.id_number_digest
    )
