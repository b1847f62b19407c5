"""``GET /v1/me/closure`` (what still blocks closing) and ``POST /v1/me/closure`` (close)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ewallet.http.deps import ServicesDep
from ewallet.identity.closure import service
from ewallet.identity.closure.schemas import ClosureCheckOut, ClosureIn, ClosureOut
from ewallet.identity.deps import CurrentUser, user_actor

router = APIRouter(prefix="/v1", tags=["account security"])


@router.get("/me/closure", summary="What still stands in the way of closing the account")
async def get_closure(user: CurrentUser, services: ServicesDep) -> ClosureCheckOut:
    check = await service.closure_check(services, user_id=user.user_id)
    return ClosureCheckOut(may_close=check.may_close, blockers=list(check.blockers))


@router.post("/me/closure", summary="Close the account for good (注销)")
async def post_closure(
    body: ClosureIn, request: Request, user: CurrentUser, services: ServicesDep
) -> ClosureOut:
    closed = await service.close_account(
        services,
        user_id=user.user_id,
        proof=service.ClosureProof(body.payment_password, body.verification_code),
        actor=user_actor(request, user),
    )
    return ClosureOut(closed_at=closed.closed_at, personal_data_erased_after=closed.erase_after)
