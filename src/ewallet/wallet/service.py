"""What the wallet holds and may still spend (``GET /v1/me/wallet``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.money import Money
from ewallet.ledger import chart
from ewallet.ledger import repository as ledger_repository
from ewallet.models.tables import users
from ewallet.risk.spending import SpendingPolicy, SpendingSummary, spending_summary


@dataclass(frozen=True, slots=True)
class Balance:
    available: Money
    held: Money
    total: Money


@dataclass(frozen=True, slots=True)
class WalletView:
    tier: int
    status: str
    balances: list[Balance]
    allowance_period: str
    allowance_remaining: Money
    spending: SpendingSummary


async def wallet_view(
    engine: AsyncEngine, *, clock: Clock, user_id: str, policy: SpendingPolicy
) -> WalletView:
    now = clock.now()

    async def work(uow: UnitOfWork) -> WalletView:
        conn = await uow.connection()
        user = (
            await conn.execute(select(users.c.tier, users.c.status).where(users.c.id == user_id))
        ).first()
        if user is None:
            raise NotFoundError("no such user")
        account = await ledger_repository.get_account_by_code(conn, chart.wallet(user_id).code)
        if account is None:
            zero = Money.zero()
            balances = [Balance(available=zero, held=zero, total=zero)]
        else:
            balances = [
                Balance(
                    available=account.available_money(),
                    held=Money(account.pending_debits, account.currency),
                    total=account.posted_money(),
                )
            ]
        summary = await spending_summary(conn, user_id=user_id, now=now, policy=policy)
        return WalletView(
            tier=user.tier,
            status=user.status,
            balances=balances,
            allowance_period=summary.class_period,
            allowance_remaining=summary.class_limit.remaining,
            spending=summary,
        )

    return await run_unit(engine, work, read_only=True)
