"""Card top-ups whose outcome is unknown are carried in the suspense account.

While the bank has not said whether it debited the card, the wallet neither owes the user
the money nor may forget it. The amount is booked ``bank_settlement:<bank>`` ->
``suspense`` (key ``topup:<id>:suspense``), so the suspense balance always shows how much is
in doubt. When the outcome is learned:

- debited: the wallet is credited *from suspense* (``topup:<id>``), which clears it;
- not debited: ``suspense`` -> ``bank_settlement:<bank>`` (``topup:<id>:suspense_release``).

Each step runs in the unit of work that changes the top-up's status, and the entry is
only made while the top-up is still ``pending`` under a row lock, so a settle job racing
the request's own path can never book suspense for a top-up already credited.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.money import Money
from ewallet.ledger import TransactionKind, apply_command, transfer
from ewallet.ledger import repository as ledger_repository
from ewallet.models.tables import topups

_HOLD: Final = "suspense"
_RELEASE: Final = "suspense_release"


def suspense_key(topup_id: str) -> str:
    return f"topup:{topup_id}:{_HOLD}"


def release_key(topup_id: str) -> str:
    return f"topup:{topup_id}:{_RELEASE}"


async def is_in_suspense(uow: UnitOfWork, topup_id: str) -> bool:
    """Whether the top-up's amount is booked in suspense and not yet released."""
    conn = await uow.connection()
    used = await ledger_repository.find_transaction_keys(
        conn, [suspense_key(topup_id), release_key(topup_id)]
    )
    return suspense_key(topup_id) in used and release_key(topup_id) not in used


async def book_in_suspense(
    uow: UnitOfWork,
    *,
    clock: Clock,
    topup_id: str,
    amount: Money,
    bank_account_id: int,
    suspense_account_id: int,
) -> bool:
    """Book a still-pending top-up's amount in suspense; False if it is settled already."""
    conn = await uow.connection()
    status = (
        await conn.execute(select(topups.c.status).where(topups.c.id == topup_id).with_for_update())
    ).scalar_one()
    if status != "pending":
        return False
    await apply_command(
        uow,
        transfer(
            key=suspense_key(topup_id),
            debit_account_id=bank_account_id,
            credit_account_id=suspense_account_id,
            amount=amount,
            kind=TransactionKind.TOPUP,
            metadata={"topup_id": topup_id, "reason": "outcome_unknown"},
        ),
        clock=clock,
    )
    return True


async def release_suspense(
    uow: UnitOfWork,
    *,
    clock: Clock,
    topup_id: str,
    amount: Money,
    bank_account_id: int,
    suspense_account_id: int,
) -> None:
    """The card was not debited: take the amount back out of suspense (if it was there)."""
    if not await is_in_suspense(uow, topup_id):
        return
    await apply_command(
        uow,
        transfer(
            key=release_key(topup_id),
            debit_account_id=suspense_account_id,
            credit_account_id=bank_account_id,
            amount=amount,
            kind=TransactionKind.ADJUSTMENT,
            metadata={"topup_id": topup_id, "reason": "not_debited"},
        ),
        clock=clock,
    )
