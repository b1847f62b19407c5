"""The ledger's periodic upkeep: fold hot accounts' deltas, expire holds whose time ran out.

Entries credit hot accounts through ``ledger_balance_deltas`` (:mod:`ewallet.models.ledger`);
an account's balance is its row plus its deltas at every moment, so folding is not needed
for correctness -- it keeps the deltas few, and so reading a hot account's balance cheap.
A hold past its ``expires_at`` can no longer be posted; expiring it gives the reserved
amount back to the account's available balance.

Every API process and every ``ewallet worker`` runs the loop; copies running at once are
safe: folds take the accounts' row locks in id order and each delta is folded once, and
expiring an already expired hold changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ewallet.ledger.service import Ledger

log = structlog.get_logger(__name__)


async def upkeep_periodically(ledger: Ledger, *, interval: float, stop: asyncio.Event) -> None:
    """Upkeep every ``interval`` seconds until ``stop`` is set; a failed pass is retried."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            while await ledger.fold_balance_deltas() > 0:
                pass  # more accounts than one pass takes: keep going
            while await ledger.expire_due_holds() > 0:
                pass
        except (SQLAlchemyError, OSError) as error:
            log.warning("ledger.upkeep_failed", error=repr(error))


@contextlib.asynccontextmanager
async def upkeep_in_background(ledger: Ledger, *, interval: float) -> AsyncIterator[None]:
    """Run the upkeep loop as a task while the block runs (nothing when ``interval`` is 0)."""
    if interval <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(upkeep_periodically(ledger, interval=interval, stop=stop))
    try:
        yield
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
