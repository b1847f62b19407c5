"""Pages of the wallet: ``/`` -- the landing page signed out, home signed in.

Home is one read, :func:`ewallet.wallet.service.home_summary_in`, in the same read-only
transaction as the session check (:func:`ewallet.web.kit.auth.read_if_signed_in`): the
available balance, the account's status, the latest entries of the history and the unread
notices' count.
The maintenance banner comes with every page (:func:`ewallet.web.kit.pages.page`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.wallet import service as wallet
from ewallet.web.kit.auth import read_if_signed_in
from ewallet.web.kit.pages import constant_fragment, locale_of, page
from ewallet.web.kit.routing import WebRoute
from ewallet.web.wallet.history import entry_names

router = APIRouter(route_class=WebRoute, include_in_schema=False)

QUICK_ACTIONS = "wallet/home/actions.html"  # the same for every reader of a language


@router.get("/")
async def home(request: Request, services: ServicesDep) -> Response:
    signed_in = await read_if_signed_in(request, services, wallet.home_summary_in)
    if signed_in is None:
        return await page(request, services, "wallet/landing.html")
    _user, summary = signed_in
    locale = locale_of(request)
    return await page(
        request,
        services,
        "wallet/home/home.html",
        summary=summary,
        entry_names=entry_names(locale),
        quick_actions=constant_fragment(QUICK_ACTIONS, locale),
    )
