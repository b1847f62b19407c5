"""The page routers are matched before the API's (ewallet.web.mount): pin that no page
shadows an API route and that every page still matches.

The app's router is asked as it asks itself for a request: its top-level routes in order,
the first full match wins. For every route of the app a concrete path is made from its
template; an API route's path must not be taken by a front end, and a page's path must be
taken by the front end holding it. No database: matching reads nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import SecretStr
from starlette.routing import BaseRoute, Match, Mount

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.web.kit.routing import PageRouter, WebRoute

PARAMETER = re.compile(r"{([^}:]+)(:[^}]+)?}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder: Path = tmp_path_factory.mktemp("routing")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'unused.db'}",
        var_dir=folder / "var",
        secret_key=SecretStr("routing-test-secret-key-" + "x" * 32),
        pin_pepper=SecretStr("routing-test-pin-pepper-" + "y" * 32),
    )
    return create_app(settings)


def concrete(template: str) -> str:
    """A path the template matches: every parameter a plain segment."""
    return PARAMETER.sub(lambda m: f"p{len(m.group(1))}x", template)


def scope_for(path: str, method: str | None) -> dict[str, object]:
    kind = "websocket" if method is None else "http"
    return {"type": kind, "path": path, "root_path": "", "method": method or "GET"}


def first_match(app: FastAPI, path: str, method: str | None) -> BaseRoute | None:
    for route in app.router.routes:
        match, _ = route.matches(scope_for(path, method))
        if match is Match.FULL:
            return route
    return None


def front_ends(app: FastAPI) -> list[BaseRoute]:
    """The app's top-level routes that are front ends (an included PageRouter)."""
    return [
        route
        for route in app.router.routes
        if isinstance(getattr(route, "original_router", None), PageRouter)
    ]


def holder(app: FastAPI, endpoint: object) -> BaseRoute:
    """The top-level route whose routes include ``endpoint``."""
    for route in app.router.routes:
        for context in iter_route_contexts([route]):
            if context.endpoint is endpoint:
                return route
    raise AssertionError(f"no top-level route holds {endpoint!r}")


def test_the_front_ends_come_before_the_api(app: FastAPI) -> None:
    pages = front_ends(app)
    assert len(pages) >= 2  # the console and the wallet (and the merchant portal)
    first_api = next(
        index
        for index, route in enumerate(app.router.routes)
        if getattr(getattr(route, "original_router", None), "prefix", "").startswith("/v1")
    )
    assert all(app.router.routes.index(page) < first_api for page in pages)


def test_no_page_shadows_an_api_route(app: FastAPI) -> None:
    pages = front_ends(app)
    checked = 0
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        template = context.path
        if isinstance(route, (WebRoute, Mount)) or not template:
            continue
        path = concrete(template)
        methods: list[str | None] = [*sorted(context.methods or ())] or [None]  # None: a socket
        for method in methods:
            taken = first_match(app, path, method)
            assert taken not in pages, (method, template)
            if template.startswith("/v1/"):
                # The front ends answer "no match" without looking at their routes.
                for page in pages:
                    assert page.matches(scope_for(path, method))[0] is Match.NONE
            checked += 1
    assert checked > 150


def test_every_page_still_matches_its_front_end(app: FastAPI) -> None:
    checked = 0
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, WebRoute) or not isinstance(
            context.original_route, APIRoute
        ):
            continue
        assert context.path is not None
        path = concrete(context.path)
        for method in context.methods or ():
            taken = first_match(app, path, method)
            assert taken is holder(app, context.endpoint), (method, context.path)
            checked += 1
    assert checked > 200


def test_a_front_end_serves_only_its_paths() -> None:
    console = PageRouter(under="/console")
    assert console.serves("/console")
    assert console.serves("/console/tickets")
    assert not console.serves("/consoles")
    assert not console.serves("/")
    assert not console.serves("/v1/staff/tickets")
    wallet = PageRouter(never=("/v1/", "/console/"))
    assert wallet.serves("/")
    assert wallet.serves("/history/abc")
    assert not wallet.serves("/v1/me")
    assert not wallet.serves("/console/tickets")
