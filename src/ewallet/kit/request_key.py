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
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.db.uow import UnitOfWork, run_unit


def request_digest(scope: str, key: str, request_hash: str) -> str:
    """64 hex chars naming one request: the caller's scope, its key and its body's hash."""
    return hashlib.sha256(f"{scope}\n{key}\n{request_hash}".encode()).hexdigest()


@dataclass(slots=True)
class RequestKey:
    digest: str
    _on_change: Callable[[bool], None] | None = field(default=None, repr=False)

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
