"""The unit of work: one use case, one database transaction, owned by the service.

Repositories and helpers receive the unit's session and never commit. ``run_unit`` reruns
the whole unit when the database reports a serialization failure, a deadlock, a lock
timeout or (SQLite) a busy database, so no caller ever sees a half-applied use case. Each
rerun is counted in ``ewallet_db_unit_retries_total`` by reason; a deadlock is logged as
an error (``db.deadlock``), because the global lock order (:mod:`ewallet.kit.db.locking`)
should make it impossible.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final, Self, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from ewallet.kit.db.engine import READ_ONLY_OPTION, is_sqlite
from ewallet.kit.metrics import DB_UNIT_RETRIES

T = TypeVar("T")
log = structlog.get_logger(__name__)

# SQLSTATEs that mean "run the whole transaction again": serialization failure, deadlock,
# and lock_not_available (a lock_timeout ran out while waiting for a row).
RETRYABLE_SQLSTATES: Final = {
    "40001": "serialization_failure",
    "40P01": "deadlock",
    "55P03": "lock_timeout",
}
DEFAULT_ATTEMPTS = 8
_UNIT_KEY: Final = "ewallet.unit_of_work"


class UnitOfWork:
    """An open transaction: its connection, an ORM session on it when asked, after-commit hooks.

    The connection (Core statements, the ledger's hot path) costs no ORM machinery; the
    session is made on first use and joins the same transaction, so ORM and Core writes of
    one use case commit or roll back together.
    """

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only
        self.is_sqlite = is_sqlite(engine)
        self._connection: AsyncConnection | None = None
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._done = False

    @property
    def session(self) -> AsyncSession:
        if self._connection is None:
            raise RuntimeError("unit of work is not open")
        if self._session is None:
            self._session = AsyncSession(
                bind=self._connection,
                expire_on_commit=False,
                autoflush=True,
                info={_UNIT_KEY: self},  # what ``unit_of(session)`` finds
            )
        return self._session

    async def connection(self) -> AsyncConnection:
        """The transaction's connection, for Core statements on hot paths."""
        if self._connection is None:
            raise RuntimeError("unit of work is not open")
        if self._session is not None:
            await self._session.flush()
        return self._connection

    async def __aenter__(self) -> Self:
        bind = self.engine.execution_options(**{READ_ONLY_OPTION: self.read_only})
        connection = await bind.connect()
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._done:
                await self.rollback()
        finally:
            if self._session is not None:
                await self._session.close()
            if self._connection is not None:
                await self._connection.close()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the transaction has committed (never if it rolls back)."""
        self._after_commit.append(hook)

    async def commit(self) -> None:
        if self._session is not None:
            await self._session.flush()
        assert self._connection is not None
        await self._connection.commit()
        self._done = True
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    async def rollback(self) -> None:
        self._after_commit.clear()
        self._done = True
        if self._session is not None:
            self._session.expunge_all()
        if self._connection is not None:
            await self._connection.rollback()


def unit_of(session: AsyncSession) -> UnitOfWork | None:
    """The unit of work whose ``session`` this is, or None for a session made elsewhere.

    For helpers handed only the session that must still act on the unit's commit (the
    outbox's ``enqueue`` wakes the relay after it).
    """
    unit = session.info.get(_UNIT_KEY)
    return unit if isinstance(unit, UnitOfWork) else None


def retry_reason(error: BaseException) -> str | None:
    """Why ``error`` calls for rerunning the unit (``deadlock``, ...), or None if it does not."""
    if not isinstance(error, DBAPIError):
        return None
    orig = error.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code in RETRYABLE_SQLSTATES:
            return RETRYABLE_SQLSTATES[code]
    text = str(orig).lower()
    return "sqlite_busy" if "database is locked" in text or "database is busy" in text else None


def is_retryable(error: BaseException) -> bool:
    """Serialization failure, deadlock, lock timeout, or a busy SQLite database."""
    return retry_reason(error) is not None


async def run_unit(
    engine: AsyncEngine,
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    read_only: bool = False,
    attempts: int = DEFAULT_ATTEMPTS,
) -> T:
    """Run ``work`` in a fresh unit of work and commit; rerun it whole on retryable errors."""
    for attempt in range(1, attempts + 1):
        try:
            async with UnitOfWork(engine, read_only=read_only) as uow:
                result = await work(uow)
                await uow.commit()
                return result
        except DBAPIError as error:
            reason = retry_reason(error)
            if reason is None:
                raise
            DB_UNIT_RETRIES.labels(reason).inc()
            if reason == "deadlock":
                # Every unit takes its locks in one global order (kit/db/locking.py): a
                # deadlock means one does not. Rerun it, but say so loudly. No traceback:
                # it would carry the statement's parameters; PostgreSQL's detail is enough.
                detail = str(error.orig)[:500]
                log.error("db.deadlock", attempt=attempt, attempts=attempts, detail=detail)  # noqa: TRY400
            else:
                log.info("db.retry", attempt=attempt, reason=reason)
            if attempt == attempts:
                raise
            await asyncio.sleep(min(0.2, 0.002 * 2**attempt) * random.random())  # noqa: S311
    raise AssertionError("unreachable")
