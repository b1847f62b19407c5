"""Pages of the wallet: ``/`` -- the landing page signed out, home signed in.

Home is one call to :func:`ewallet.wallet.service.home_summary`: the available balance,
the account's status, the latest entries of the history and the unread notices' count.
The maintenance banner comes with every page (:func:`ewallet.web.kit.pages.page`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.wallet import service as wallet
from ewallet.web.kit.auth import web_principal
from ewallet.web.kit.pages import page
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/")
async def home(request: Request, services: ServicesDep) -> Response:
    user = await web_principal(request, services)
    if user is None:
        return await page(request, services, "wallet/landing.html")
    summary = await wallet.home_summary(services, user.user_id)
    return await page(request, services, "wallet/home/home.html", summary=summary)
