"""What the wallet holds and may still spend (``GET /v1/me/wallet``)."""

from __future__ import annotations

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.risk.spending import SpendingPolicy, spending_summary
from ewallet.services import Services
from ewallet.wallet import repository
from ewallet.wallet.views import WalletView


async def wallet_view(services: Services, user_id: str) -> WalletView:
    """The user's balances, account class and what its limits still allow today (the
    policy read from ``services.settings``); ``not_found`` for no such user. Reads only."""
    now = services.clock.now()
    policy = SpendingPolicy.from_settings(services.settings)

    async def work(uow: UnitOfWork) -> WalletView:
        conn = await uow.connection()
        holder = await repository.holder(conn, user_id)
        if holder is None:
            raise NotFoundError("no such user")
        balance = await repository.balance(conn, user_id)
        summary = await spending_summary(conn, user_id=user_id, now=now, policy=policy)
        return WalletView(
            tier=holder.tier,
            status=holder.status,
            balances=[balance],
            allowance_period=summary.class_period,
            allowance_remaining=summary.class_limit.remaining,
            spending=summary,
        )

    return await run_unit(services.engine, work, read_only=True)
