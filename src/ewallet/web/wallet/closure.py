"""Pages of the wallet: closing the account (``/security/closure``, 注销).

The use cases of ``GET``/``POST /v1/me/closure``
(:mod:`ewallet.identity.closure.service`). The page first lists everything that still
stands in the way -- money in the wallet (with a link to withdraw it all), money held, a
bound card (unbind it), top-ups, withdrawals, bills, transfers or payments not final yet
-- and offers the form only when nothing does. The proof is the payment password and an
SMS code (purpose ``account_closure``, texted by the "Text me a code" button). Success
ends every session, this browser's included: the answer is a plain page saying so, and
the session cookie is cleared.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.closure import service as closure
from ewallet.identity.runtime import CallerDep
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.cookies import clear_session
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE = "/security/closure"
TEMPLATE = "wallet/security/closure.html"
DONE = "wallet/security/closure_done.html"


async def _render(
    request: Request,
    services: Services,
    user_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    sms_sent: bool = False,
) -> Response:
    check = await closure.closure_check(services, user_id=user_id)
    return await page(
        request,
        services,
        TEMPLATE,
        status_code=status_code,
        blockers=[blocker.value for blocker in check.blockers],
        error=error,
        sms_sent=sms_sent,
    )


@router.get(PAGE)
async def closure_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    sms_sent = request.query_params.get("sms") == "sent"
    return await _render(request, services, user.user_id, sms_sent=sms_sent)


@router.get(f"{PAGE}/code")
async def closure_code_page(user: WebUser) -> Response:
    """The code form's address opened again (a reload): the page itself."""
    return see_other(PAGE)


@router.post(f"{PAGE}/code")
async def send_closure_code(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser, caller: CallerDep
) -> Response:
    try:
        await closure.request_closure_code(services, caller=caller, user_id=user.user_id)
    except DomainError as error:
        return await _render(
            request, services, user.user_id, status_code=error.status, error=refusal(request, error)
        )
    return see_other(f"{PAGE}?sms=sent")


@router.post(PAGE)
async def close_account(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    proof = closure.ClosureProof(
        payment_password=form["payment_password"], verification_code=form.text("code")
    )
    try:
        closed = await closure.close_account(
            services, user_id=user.user_id, proof=proof, actor=actor_of(request, user)
        )
    except DomainError as error:
        return await _render(
            request,
            services,
            user.user_id,
            status_code=error.status,
            error=refusal(request, error),
            sms_sent=True,
        )
    response = await page(request, services, DONE, closed=closed, user=None)
    clear_session(response, services)
    return response
