"""Pages of the wallet: a copy of my data (``/me/data-copies``, PIPL art. 45).

The use cases of ``/v1/me/data-copies`` (:mod:`ewallet.identity.data_copy.service`): the
list of copies with their state, a button that asks for a new one (the worker builds it
within minutes and a notice says when it is ready), and the downloads, JSON or PDF, for
the owner only until the copy expires.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.data_copy import service as data_copy
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE = "/me/data-copies"
TEMPLATE = "wallet/me/data_copies.html"


async def _render(
    request: Request,
    services: Services,
    user_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    copies = await data_copy.list_data_copies(services, user_id=user_id)
    return await page(
        request,
        services,
        TEMPLATE,
        status_code=status_code,
        copies=copies,
        now=services.clock.now(),
        requested=request.query_params.get("requested") == "1",
        error=error,
    )


@router.get(PAGE)
async def data_copies_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    return await _render(request, services, user.user_id)


@router.post(PAGE)
async def request_copy(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    try:
        await data_copy.request_data_copy(
            services, user_id=user.user_id, actor=actor_of(request, user)
        )
    except DomainError as error:
        return await _render(
            request, services, user.user_id, status_code=error.status, error=refusal(request, error)
        )
    return see_other(f"{PAGE}?requested=1")


@router.get(PAGE + "/{copy_id}/{fmt}")
async def download(
    copy_id: str, fmt: Literal["json", "pdf"], services: ServicesDep, user: WebUser
) -> Response:
    got = await data_copy.download_data_copy(
        services, user_id=user.user_id, copy_id=copy_id, fmt=fmt
    )
    return Response(
        content=got.content,
        media_type=got.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{got.filename}"',
            "Cache-Control": "no-store",
        },
    )
