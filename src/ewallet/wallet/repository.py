"""All SQL of the wallet: the holder's class and status, and the wallet's balances."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.money import Money
from ewallet.ledger import chart
from ewallet.ledger import repository as ledger_repository
from ewallet.models.tables import users
from ewallet.wallet.views import Balance


@dataclass(frozen=True, slots=True)
class Holder:
    tier: int
    status: str


async def holder(conn: AsyncConnection, user_id: str) -> Holder | None:
    """The user's account class and status; None if there is no such user."""
    statement = select(users.c.tier, users.c.status).where(users.c.id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else Holder(int(row.tier), str(row.status))


async def balance(conn: AsyncConnection, user_id: str) -> Balance:
    """The wallet's balance in CNY (zero before its first movement)."""
    account = await ledger_repository.get_account_by_code(conn, chart.wallet(user_id).code)
    if account is None:
        zero = Money.zero()
        return Balance(available=zero, held=zero, total=zero)
    return Balance(
        available=account.available_money(),
        held=Money(account.pending_debits, account.currency),
        total=account.posted_money(),
    )
