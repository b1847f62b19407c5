"""The unit of work: one use case, one database transaction, owned by the service.

Repositories and helpers receive the unit's session and never commit. ``run_unit`` reruns
the whole unit when the database reports a serialization failure, a deadlock or (SQLite) a
busy database, so no caller ever sees a half-applied use case.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from ewallet.kit.db.engine import READ_ONLY_OPTION, is_sqlite

T = TypeVar("T")
log = structlog.get_logger(__name__)

# SQLSTATEs that mean "run the whole transaction again": serialization failure, deadlock,
# and lock_not_available (a lock_timeout ran out while waiting for a row).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
DEFAULT_ATTEMPTS = 8


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


def is_retryable(error: BaseException) -> bool:
    """Serialization failure, deadlock, or a busy SQLite database."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code in RETRYABLE_SQLSTATES:
            return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text


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
            if attempt == attempts or not is_retryable(error):
                raise
            log.info("db.retry", attempt=attempt, error=type(error.orig).__name__)
            await asyncio.sleep(min(0.2, 0.002 * 2**attempt) * random.random())  # noqa: S311
    raise AssertionError("unreachable")
