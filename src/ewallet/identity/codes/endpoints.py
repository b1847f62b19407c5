"""``POST /v1/verification-codes``: parse, one service call, the answer."""

from __future__ import annotations

from fastapi import APIRouter, status

from ewallet.http.deps import ServicesDep
from ewallet.identity.codes import service
from ewallet.identity.codes.schemas import CodeRequest, CodeSentOut
from ewallet.identity.runtime import CallerDep
from ewallet.models.identity import CodePurpose

router = APIRouter(prefix="/v1", tags=["identity"])


@router.post("/verification-codes", status_code=status.HTTP_202_ACCEPTED)
async def request_verification_code(
    body: CodeRequest, services: ServicesDep, caller: CallerDep
) -> CodeSentOut:
    """Text a 6-digit code. The same 202 for every well-formed phone, account or not."""
    sent = await service.request_code(
        services, caller=caller, phone=body.phone, purpose=CodePurpose(body.purpose)
    )
    return CodeSentOut(expires_in=sent.expires_in, resend_after=sent.resend_after)
