"""What the wallet holds and may still spend (``GET /v1/me/wallet``); the summary the
web wallet's home shows."""

from __future__ import annotations

from typing import Final

from ewallet.history import service as history
from ewallet.identity.notices import service as notices
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.risk.spending import SpendingPolicy, spending_summary
from ewallet.services import Services
from ewallet.wallet import repository
from ewallet.wallet.views import HomeView, WalletView

RECENT_ON_HOME: Final = 5


async def wallet_view(services: Services, user_id: str) -> WalletView:
    """The user's balances, account class and what its limits still allow today (the
    policy read from ``services.settings``); ``not_found`` for no such user. Reads only."""
    read = wallet_view_read(services)
    return await run_unit(services.engine, lambda uow: read(uow, user_id), read_only=True)


def wallet_view_read(services: Services) -> history.UserRead[WalletView]:
    """:func:`wallet_view` as a read for a user inside the caller's unit of work (a web
    page reads it in the transaction that checks its session)."""
    now = services.clock.now()
    policy = SpendingPolicy.from_settings(services.settings)

    async def read(uow: UnitOfWork, user_id: str) -> WalletView:
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

    return read


async def home_summary(
    services: Services, user_id: str, *, recent: int = RECENT_ON_HOME
) -> HomeView:
    """The home page's summary in one call: the wallet's balance, the account's status and
    class, its ``recent`` latest history entries (pending ones first, as the history lists
    them) and the number of unread notices; ``not_found`` for no such user. Reads only."""
    # One read transaction: the balance, the latest entries and the badge agree.
    return await run_unit(
        services.engine, lambda uow: home_summary_in(uow, user_id, recent=recent), read_only=True
    )


async def home_summary_in(
    uow: UnitOfWork, user_id: str, *, recent: int = RECENT_ON_HOME
) -> HomeView:
    """:func:`home_summary` inside the caller's unit of work (the web home page reads it in
    the transaction that checks its session)."""
    conn = await uow.connection()
    holder = await repository.holder(conn, user_id)
    if holder is None:
        raise NotFoundError("no such user")
    account_id, balance = await repository.wallet_account(conn, user_id)
    return HomeView(
        balance=balance,
        status=holder.status,
        tier=holder.tier,
        recent=await history.latest_in(uow, user_id, account_id=account_id, limit=recent),
        unread_notices=await notices.unread_in(uow, user_id=user_id),
    )
