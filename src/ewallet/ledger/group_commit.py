"""Group commit: concurrent ledger commands share one database transaction.

A committed transfer costs one durable commit (an fsync on SQLite with synchronous=FULL,
a WAL flush on PostgreSQL); that, not CPU, caps a ledger that commits each transfer
alone. Callers here put their command on a queue and await its outcome; a few flusher
tasks each take whatever is waiting (up to ``max_batch``) and apply it with
:func:`ewallet.ledger.batch.execute_batch`, where a refused command is an outcome of its
own and never fails its neighbours. The database's row locks remain the only guard: the
queue merely groups work, it serializes nothing that the database would not.

If the batch's transaction itself fails (a concurrent writer took one of its idempotency
keys first, say), it is run again once -- the reads then see the winner and answer with a
replay -- and if it still fails, each command is committed alone so only the culprit fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.metrics import LEDGER_BATCH_SIZE
from ewallet.ledger.batch import Result, execute_batch
from ewallet.ledger.domain import Command
from ewallet.ledger.observe import record_results

log = structlog.get_logger(__name__)

_Item = tuple[Command, "asyncio.Future[Result]"]


async def commit_commands(
    engine: AsyncEngine, clock: Clock, commands: Sequence[Command]
) -> list[Result]:
    """Apply ``commands`` in one unit of work (retried whole on deadlock) and commit.

    The first attempt reads the transaction keys optimistically (with the account locks,
    one round trip fewer on PostgreSQL); the rerun after a unique-key failure reads them
    after the locks, so it sees whatever duplicate was committed meanwhile.
    """

    def attempt(*, optimistic_keys: bool) -> Callable[[UnitOfWork], Awaitable[list[Result]]]:
        async def work(uow: UnitOfWork) -> list[Result]:
            connection = await uow.connection()
            return await execute_batch(
                connection, commands, now=clock.now(), optimistic_keys=optimistic_keys
            )

        return work

    try:
        results = await run_unit(engine, attempt(optimistic_keys=True))
    except IntegrityError:
        # A concurrent writer committed one of these keys (or holds, or reversals) between
        # our reads and our writes; run again: the reads now see it and answer accordingly.
        results = await run_unit(engine, attempt(optimistic_keys=False))
    LEDGER_BATCH_SIZE.observe(len(commands))
    record_results(results)
    return results


class GroupCommitter:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock,
        max_batch: int = 128,
        flushers: int = 2,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._max_batch = max_batch
        self._flusher_count = flushers
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._flush_forever(), name=f"ledger-flusher-{n}")
                for n in range(self._flusher_count)
            ]

    async def aclose(self) -> None:
        """Finish what is queued, then stop the flushers."""
        await self._queue.join()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def submit(self, command: Command) -> Result:
        if not self._tasks:
            raise RuntimeError("GroupCommitter.start() was not called")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((command, future))
        return await future

    async def _flush_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Item]) -> None:
        commands = [command for command, _ in batch]
        try:
            results = await commit_commands(self._engine, self._clock, commands)
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0][1], error)
                return
            log.warning("ledger.batch_split", size=len(batch), error=type(error).__name__)
            for item in batch:
                await self._commit([item])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _settle(future: asyncio.Future[Result], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)
