"""``POST /v1/me/identity``: real-name verification."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser, user_actor
from ewallet.identity.realname import service
from ewallet.identity.realname.schemas import IdentityIn, IdentityOut

router = APIRouter(prefix="/v1", tags=["account security"])


@router.post("/me/identity", summary="Real-name verification (raises the account class)")
async def post_identity(
    *, body: IdentityIn, request: Request, user: CurrentUser, services: ServicesDep
) -> IdentityOut:
    verified = await service.verify_identity(
        services,
        user_id=user.user_id,
        real_name=body.real_name,
        id_number=body.id_number,
        actor=user_actor(request, user),
    )
    return IdentityOut.of(verified)
