"""The fee's hold beside a withdrawal's (or a card transfer's) amount hold.

Both are taken in the unit that accepts the movement, wallet -> fee revenue for the fee the
quote charged (:mod:`.fees`), so the fee is reserved with the amount and posted or voided
with it. A free movement (fee 0) has no fee hold: the ledger takes positive amounts only.
"""

from __future__ import annotations

from typing import Any

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.money import Money
from ewallet.ledger import CreateHold, Hold, TransactionKind, apply_command


async def hold_fee(
    uow: UnitOfWork,
    *,
    key: str,
    wallet_id: int,
    revenue_id: int,
    fee: Money,
    metadata: dict[str, Any],
    clock: Clock,
) -> str | None:
    """Hold ``fee`` wallet -> fee revenue under ``key``; its hold's id, or None when free."""
    if not fee.is_positive():
        return None
    held = await apply_command(
        uow,
        CreateHold(
            key=key,
            kind=TransactionKind.FEE,
            debit_account_id=wallet_id,
            credit_account_id=revenue_id,
            amount=fee,
            metadata=metadata,
        ),
        clock=clock,
    )
    assert isinstance(held, Hold)
    return held.id
