"""``POST /v1/sessions/refresh`` and ``DELETE /v1/sessions/current``: one service call each."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.identity.sessions import service
from ewallet.identity.sessions.schemas import RefreshRequest, SignedInOut, TokensOut

router = APIRouter(prefix="/v1", tags=["identity"])


@router.post("/sessions/refresh", status_code=status.HTTP_201_CREATED)
async def refresh_session(
    body: RefreshRequest, services: ServicesDep, caller: CallerDep
) -> SignedInOut:
    """Rotate the refresh token; a reused one revokes the whole session."""
    tokens = await service.refresh(services, caller=caller, refresh_token=body.refresh_token)
    return SignedInOut(tokens=TokensOut.of(tokens))


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(user: CurrentUser, services: ServicesDep, caller: CallerDep) -> Response:
    """Sign this session out."""
    await service.sign_out(
        services, caller=caller, user_id=user.user_id, session_id=user.session_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
