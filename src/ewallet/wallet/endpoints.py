"""``GET /v1/me/wallet``."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.http.deps import ClockDep, EngineDep, SettingsDep
from ewallet.identity.deps import CurrentUser
from ewallet.risk.spending import SpendingPolicy
from ewallet.wallet.schemas import WalletOut
from ewallet.wallet.service import wallet_view

router = APIRouter(prefix="/v1/me", tags=["wallet"])


@router.get("/wallet", summary="Balances, account class and what it still allows")
async def get_wallet(
    user: CurrentUser, engine: EngineDep, clock: ClockDep, settings: SettingsDep
) -> WalletOut:
    policy = SpendingPolicy.from_settings(settings)
    return WalletOut.of(await wallet_view(engine, clock=clock, user_id=user.user_id, policy=policy))
