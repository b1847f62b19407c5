"""Storage of Idempotency-Key records: claim, complete, release, purge.

Each operation is its own short committed transaction, never the endpoint's: the claim must
be visible to other processes before the endpoint starts, and the stored response must
survive the endpoint's rollback -- except :func:`record_answered`, the one INSERT of an
answered record that an endpoint claiming its key in its own unit of work
(``IdempotentInUnit``, docs/http.md) writes in that unit. The unique ``(scope, key)``
constraint decides a race between processes: exactly one INSERT wins, the others read the
winner's row.

A claim is a lease: ``locked_until`` is both its expiry and its token. Completing or
releasing matches on it, so a request whose lease was taken over (it ran past the lock)
cannot overwrite or delete the record of the request that took over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.idempotency import IdempotencyRecord

IN_PROGRESS: Final = "in_progress"
COMPLETED: Final = "completed"
_TABLE: Final = cast(Table, IdempotencyRecord.__table__)
_CLAIM_ATTEMPTS: Final = 5


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claim:
    """This request owns the key until ``locked_until``."""

    record_id: int
    locked_until: datetime


@dataclass(frozen=True, slots=True)
class ExistingRecord:
    """Another request holds or held the key."""

    record_id: int
    request_hash: str
    state: str
    locked_until: datetime
    expires_at: datetime
    response: StoredResponse | None

    def may_be_taken_over(self, *, request_hash: str, now: datetime) -> bool:
        """Expired records are free; a crashed run's lease is free for the same request."""
        if self.expires_at <= now:
            return True
        return (
            self.state == IN_PROGRESS
            and self.locked_until <= now
            and self.request_hash == request_hash
        )


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """What identifies a request under an Idempotency-Key."""

    scope: str
    key: str
    method: str
    path: str
    request_hash: str


async def claim(
    engine: AsyncEngine,
    request: KeyRequest,
    *,
    now: datetime,
    lock_for: timedelta,
    keep_for: timedelta,
) -> Claim | ExistingRecord:
    """Take the key for ``request``, or return the record of whoever has it."""
    for _ in range(_CLAIM_ATTEMPTS):
        try:
            return await _insert(engine, request, now=now, lock_for=lock_for, keep_for=keep_for)
        except IntegrityError:
            pass
        existing = await load(engine, scope=request.scope, key=request.key)
        if existing is None:
            continue  # released or purged since our INSERT: try again
        if not existing.may_be_taken_over(request_hash=request.request_hash, now=now):
            return existing
        taken = await _take_over(
            engine, existing, request, now=now, lock_for=lock_for, keep_for=keep_for
        )
        if taken is not None:
            return taken
    raise RuntimeError("idempotency key is changing hands too fast to claim")


async def _insert(
    engine: AsyncEngine,
    request: KeyRequest,
    *,
    now: datetime,
    lock_for: timedelta,
    keep_for: timedelta,
) -> Claim:
    locked_until = now + lock_for

    async def work(uow: UnitOfWork) -> int:
        connection = await uow.connection()
        statement = (
            insert(_TABLE)
            .values(
                scope=request.scope,
                key=request.key,
                method=request.method,
                path=request.path,
                request_hash=request.request_hash,
                state=IN_PROGRESS,
                locked_until=locked_until,
                created_at=now,
                expires_at=now + keep_for,
            )
            .returning(_TABLE.c.id)
        )
        return int((await connection.execute(statement)).scalar_one())

    return Claim(record_id=await run_unit(engine, work), locked_until=locked_until)


async def _take_over(
    engine: AsyncEngine,
    existing: ExistingRecord,
    request: KeyRequest,
    *,
    now: datetime,
    lock_for: timedelta,
    keep_for: timedelta,
) -> Claim | None:
    """Compare-and-set the record to a fresh lease; None if someone else changed it first."""
    locked_until = now + lock_for

    async def work(uow: UnitOfWork) -> int:
        connection = await uow.connection()
        statement = (
            update(_TABLE)
            .where(
                _TABLE.c.id == existing.record_id,
                _TABLE.c.state == existing.state,
                _TABLE.c.locked_until == existing.locked_until,
            )
            .values(
                method=request.method,
                path=request.path,
                request_hash=request.request_hash,
                state=IN_PROGRESS,
                response_status=None,
                response_headers=None,
                response_body=None,
                locked_until=locked_until,
                created_at=now,
                expires_at=now + keep_for,
            )
        )
        return (await connection.execute(statement)).rowcount

    if await run_unit(engine, work) != 1:
        return None
    return Claim(record_id=existing.record_id, locked_until=locked_until)


async def load(engine: AsyncEngine, *, scope: str, key: str) -> ExistingRecord | None:
    async def work(uow: UnitOfWork) -> ExistingRecord | None:
        connection = await uow.connection()
        statement = select(_TABLE).where(_TABLE.c.scope == scope, _TABLE.c.key == key)
        row = (await connection.execute(statement)).mappings().one_or_none()
        return None if row is None else _existing(row)

    return await run_unit(engine, work, read_only=True)


def _existing(row: Any) -> ExistingRecord:
    response = None
    if row["state"] == COMPLETED:
        response = StoredResponse(
            status=int(row["response_status"]),
            headers=dict(row["response_headers"] or {}),
            body=bytes(row["response_body"] or b""),
        )
    return ExistingRecord(
        record_id=int(row["id"]),
        request_hash=str(row["request_hash"]),
        state=str(row["state"]),
        locked_until=row["locked_until"],
        expires_at=row["expires_at"],
        response=response,
    )


async def complete(
    engine: AsyncEngine, held: Claim, response: StoredResponse, *, now: datetime
) -> bool:
    """Store the first response; False if the lease was lost to another request."""

    async def work(uow: UnitOfWork) -> int:
        connection = await uow.connection()
        statement = (
            update(_TABLE)
            .where(*_held_by(held))
            .values(
                state=COMPLETED,
                response_status=response.status,
                response_headers=response.headers,
                response_body=response.body,
                locked_until=now,
            )
        )
        return (await connection.execute(statement)).rowcount

    return await run_unit(engine, work) == 1


async def release(engine: AsyncEngine, held: Claim) -> None:
    """Forget the claim so the client may retry with the same key."""

    async def work(uow: UnitOfWork) -> None:
        connection = await uow.connection()
        await connection.execute(delete(_TABLE).where(*_held_by(held)))

    await run_unit(engine, work)


async def reopen(engine: AsyncEngine, held: Claim, *, now: datetime) -> bool:
    """End the lease but keep the record: only the same request may run again, at once.

    For a request that may have caused an effect outside (a bank was asked) and then failed:
    freeing the key would let a retry make a second operation; the rerun instead finds the
    operation the first run recorded and answers its state.
    """

    async def work(uow: UnitOfWork) -> int:
        connection = await uow.connection()
        statement = update(_TABLE).where(*_held_by(held)).values(locked_until=now)
        return (await connection.execute(statement)).rowcount

    return await run_unit(engine, work) == 1


async def record_answered(
    conn: AsyncConnection,
    request: KeyRequest,
    response: StoredResponse,
    *,
    now: datetime,
    keep_for: timedelta,
) -> bool:
    """Store ``request`` as answered with ``response`` in the caller's transaction (the unit
    that did the work, or one of its own): one INSERT, which takes over an expired record.
    False, with nothing written, when a live record holds the key (then read it with
    :func:`load`); on PostgreSQL a record another transaction is writing is waited for."""
    values: dict[str, Any] = {
        "scope": request.scope,
        "key": request.key,
        "method": request.method,
        "path": request.path,
        "request_hash": request.request_hash,
        "state": COMPLETED,
        "locked_until": now,
        "created_at": now,
        "expires_at": now + keep_for,
        "response_status": response.status,
        "response_headers": response.headers,
        "response_body": response.body,
    }
    insert_into = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    new = insert_into(_TABLE).values(**values)
    statement = new.on_conflict_do_update(
        index_elements=["scope", "key"],
        set_={name: new.excluded[name] for name in values if name not in ("scope", "key")},
        where=_TABLE.c.expires_at <= now,
    ).returning(_TABLE.c.id)
    return (await conn.execute(statement)).first() is not None


async def store_answered(
    engine: AsyncEngine,
    request: KeyRequest,
    response: StoredResponse,
    *,
    now: datetime,
    keep_for: timedelta,
) -> bool:
    """:func:`record_answered` in a transaction of its own."""

    async def work(uow: UnitOfWork) -> bool:
        return await record_answered(
            await uow.connection(), request, response, now=now, keep_for=keep_for
        )

    return await run_unit(engine, work)


def _held_by(held: Claim) -> tuple[Any, ...]:
    return (
        _TABLE.c.id == held.record_id,
        _TABLE.c.state == IN_PROGRESS,
        _TABLE.c.locked_until == held.locked_until,
    )


async def purge_expired(engine: AsyncEngine, *, now: datetime) -> int:
    """Delete records past their time to live (``idempotency_ttl_hours``); returns how many."""

    async def work(uow: UnitOfWork) -> int:
        connection = await uow.connection()
        result = await connection.execute(delete(_TABLE).where(_TABLE.c.expires_at <= now))
        return result.rowcount

    return await run_unit(engine, work)
