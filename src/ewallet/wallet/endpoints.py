"""``GET /v1/me/wallet``."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.http.deps import ClockDep, EngineDep
from ewallet.identity.deps import CurrentUser
from ewallet.wallet.schemas import WalletOut
from ewallet.wallet.service import wallet_view

router = APIRouter(prefix="/v1/me", tags=["wallet"])


@router.get("/wallet", summary="Balances, account class and what it still allows")
async def get_wallet(user: CurrentUser, engine: EngineDep, clock: ClockDep) -> WalletOut:
    return WalletOut.of(await wallet_view(engine, clock=clock, user_id=user.user_id))
