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

from contextlib import AbstractAsyncContextManager

from sqlalchemy.exc import SQLAlchemyError

from ewallet.kit.periodic import running_every
from ewallet.ledger.service import Ledger


async def upkeep_once(ledger: Ledger) -> None:
    """Fold every hot account's deltas, then expire every hold past its time."""
    while await ledger.fold_balance_deltas() > 0:
        pass  # more accounts than one pass takes: keep going
    while await ledger.expire_due_holds() > 0:
        pass


def upkeep_in_background(ledger: Ledger, *, interval: float) -> AbstractAsyncContextManager[None]:
    """Upkeep every ``interval`` seconds while the block runs (nothing when it is 0); a
    failed pass is retried at the next tick."""

    async def tick() -> None:
        await upkeep_once(ledger)

    return running_every(
        interval, tick, failure_event="ledger.upkeep_failed", errors=(SQLAlchemyError, OSError)
    )
