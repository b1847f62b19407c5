"""The request an operation was made for, and the promise to keep its Idempotency-Key.

An operation that calls out (a bank credit, a card debit, a PSP order, a biller payment)
stores the :class:`RequestKey` of the request that made it (``request_key``, unique per
user). A rerun of the same request finds that operation and answers its state instead of
making a second one.

Before the call out the service says :meth:`RequestKey.effect_possible`: from then on the
HTTP layer never frees the key, whatever the answer (``docs/http.md``). When the other side
refused before anything could happen (the service recorded the failure and dropped the
operation's ``request_key``), :meth:`RequestKey.nothing_happened` lets the key go again.

Services take ``request_key: RequestKey | None``: ``None`` (jobs, the CLI, tests calling a
service directly) stores no key and promises nothing.

An endpoint whose key is claimed in its own unit of work (``IdempotentInUnit``,
docs/http.md: a hot path that never calls out, such as a merchant's charge) also says how
its answer reads (:meth:`RequestKey.answer_with`); the service then writes the key's
record, answer included, in the unit that does the work (:meth:`RequestKey.record_answer`),
so the work and its record commit together or not at all, and the endpoint sends exactly
the bytes recorded (:meth:`RequestKey.recorded`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.db.uow import UnitOfWork, run_unit


def request_digest(scope: str, key: str, request_hash: str) -> str:
    """64 hex chars naming one request: the caller's scope, its key and its body's hash."""
    return hashlib.sha256(f"{scope}\n{key}\n{request_hash}".encode()).hexdigest()


# An answer as the HTTP layer stores and sends it: status and body.
Answer = tuple[int, bytes]
Recorder = Callable[[UnitOfWork, Answer], Awaitable[None]]


@dataclass(slots=True)
class RequestKey:
    digest: str
    _on_change: Callable[[bool], None] | None = field(default=None, repr=False)
    # Set for a key claimed in the unit of work (module doc); None when the HTTP layer
    # claimed it before the endpoint ran and stores the answer itself.
    _recorder: Recorder | None = field(default=None, repr=False)
    _render: Callable[[Any], Answer] | None = field(default=None, repr=False)
    _recorded: Answer | None = field(default=None, repr=False)

    def answer_with(self, render: Callable[[Any], Answer]) -> None:
        """How the endpoint's answer reads, from what its service passes to
        :meth:`record_answer` (a view and whether it was made now, say)."""
        self._render = render

    async def record_answer(self, uow: UnitOfWork, result: Any) -> None:
        """Write this request's record with its answer (rendered from ``result``) in ``uow``.
        Nothing to do for a key the HTTP layer claimed beforehand; raises when the key is
        held by another request (the unit then rolls back and that request's answer is
        given instead)."""
        if self._recorder is None or self._render is None:
            return
        answer = self._render(result)
        await self._recorder(uow, answer)
        uow.after_commit(lambda: self._keep(answer))

    def _keep(self, answer: Answer) -> None:
        self._recorded = answer

    def recorded(self) -> Answer | None:
        """The answer :meth:`record_answer` committed, to send as it is; else None."""
        return self._recorded

    def effect_possible(self) -> None:
        """Something outside may happen from now on: the key must stay with this request."""
        if self._on_change is not None:
            self._on_change(True)

    def nothing_happened(self) -> None:
        """The outside party refused before anything happened: the key may be freed."""
        if self._on_change is not None:
            self._on_change(False)


async def row_for_request(
    engine: AsyncEngine, table: Table, *, owner: str, owner_id: str, request_key: RequestKey | None
) -> Row[Any] | None:
    """The row of ``table`` an earlier run of this request made, if any (reads only).

    ``owner`` names the column the key is unique with (the user's id). Finding one means the
    operation's effect may have happened: the key stays with this request from then on.
    """
    if request_key is None:
        return None
    statement = select(table).where(
        table.c[owner] == owner_id, table.c.request_key == request_key.digest
    )

    async def work(uow: UnitOfWork) -> Row[Any] | None:
        conn = await uow.connection()
        return (await conn.execute(statement)).first()

    row = await run_unit(engine, work, read_only=True)
    if row is not None:
        request_key.effect_possible()
    return row
