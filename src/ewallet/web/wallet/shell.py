"""The wallet's shell: the language
switch and the web app manifest (so a phone can add the wallet to its home screen)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.i18n import EN, ZH_CN
from ewallet.web.kit.auth import local_path
from ewallet.web.kit.cookies import set_language
from ewallet.web.kit.pages import see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import static

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/lang/{locale}")
async def switch_language(
    locale: str, services: ServicesDep, next_path: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    """Remember the reader's language in a cookie and go back (a preference, not a change
    of any account: a plain link, so it works with JavaScript off)."""
    response = see_other(local_path(next_path or "/"))
    if locale in (ZH_CN, EN):
        set_language(response, services, locale)
    return response


@router.get("/manifest.webmanifest")
async def manifest() -> Response:
    return JSONResponse(
        {
            "name": "ewallet 电子钱包",
            "short_name": "ewallet",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#b3121f",
            "lang": "zh-CN",
            "icons": [
                {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {
                    "src": static("icons/icon.svg"),
                    "sizes": "any",
                    "type": "image/svg+xml",
                    "purpose": "any maskable",
                },
            ],
        },
        media_type="application/manifest+json",
    )
