"""``GET /v1/me/wallet``."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.wallet import service
from ewallet.wallet.schemas import WalletOut

router = APIRouter(prefix="/v1/me", tags=["wallet"])


@router.get("/wallet", summary="Balances, account class and what it still allows")
async def get_wallet(user: CurrentUser, services: ServicesDep) -> WalletOut:
    return WalletOut.of(await service.wallet_view(services, user.user_id))
