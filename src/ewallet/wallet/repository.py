"""All SQL of the wallet: the holder's class and status, and the wallet's balances."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
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


_holder = select(users.c.tier, users.c.status).where(users.c.id == bindparam("user_id"))


async def holder(conn: AsyncConnection, user_id: str) -> Holder | None:
    """The user's account class and status; None if there is no such user."""
    row = (await conn.execute(_holder, {"user_id": user_id})).first()
    return None if row is None else Holder(int(row.tier), str(row.status))


async def balance(conn: AsyncConnection, user_id: str) -> Balance:
    """The wallet's balance in CNY (zero before its first movement)."""
    return (await wallet_account(conn, user_id))[1]


async def wallet_account(conn: AsyncConnection, user_id: str) -> tuple[int | None, Balance]:
    """The CNY wallet's ledger account id (None before its first movement) and balance."""
    account = await ledger_repository.get_account_by_code(conn, chart.wallet(user_id).code)
    if account is None:
        zero = Money.zero()
        return None, Balance(available=zero, held=zero, total=zero)
    return account.id, Balance(
        available=account.available_money(),
        held=Money(account.pending_debits, account.currency),
        total=account.posted_money(),
    )
