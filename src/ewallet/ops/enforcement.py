"""Refuse writes during maintenance: ``503 maintenance`` with ``Retry-After``.

Every write is refused while a window is in force, wherever its route is mounted -- the
API, the staff API, the merchant API, the hosted checkout's forms -- unless its route is on
:data:`OPEN_DURING_MAINTENANCE`. The rule is decided here, once, for the whole app: a
route nobody thought about (a new money route, a form under ``/checkout``) is refused by
default, and ``tests/ops/test_maintenance_money.py`` walks every route of the app and
fails if an open one is not on the reviewed list. What stays open, and why:

- reads (GET, HEAD, OPTIONS): the point of a window is that clients keep showing balances
  and history;
- what an operator needs to end a window: staff sign-in, refresh, sign-out and password
  change, and the maintenance-window routes themselves -- in the staff API and in the
  staff console (whose lock screen and activity ping keep a signed-in operator working);
- refreshing and ending a customer's session (the API's and the web wallet's sign-out), so
  a client already signed in keeps reading through a long window instead of being signed
  out by it;
- the in-process sandboxes (mounted apps standing in for the bank, PSPs and billers: the
  outside world does not stop for our window), and paths no route matches (answered
  ``404``/``405`` as usual).

Everything else is refused: registration and sign-in, every money movement (payments,
transfers, top-ups, withdrawals, charges, refunds, counter deposits and approvals), and
staff changes that move no money either (freezes, merchants, help articles), so a window
is a true freeze of the data. The refusal follows ``Accept-Language``; when the operator
gave the window a message, it is the detail. ``Retry-After`` is the whole seconds until the
maintenance stretch ends. Routes that answer HTML (the checkout's and the web wallet's
forms) get the same refusal as a small page in the user's language (the web pages'
``lang`` cookie first) instead of a problem document.

A pure ASGI middleware, so a refused request costs no body parsing and no database work.
Reads never look at the schedule; a write looks at the per-process cache
(:func:`ewallet.ops.service.current_maintenance`, no query per request) and, only while a
window is in force, finds its route to decide.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import jinja2
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from ewallet.http.deps import app_services
from ewallet.http.problem import PROBLEM_CODE_STATE, PROBLEM_MEDIA_TYPE, problem_type
from ewallet.kit import i18n
from ewallet.ops.service import current_maintenance
from ewallet.ops.views import ActiveMaintenance
from ewallet.risk.limits import CHINA_TIME

READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
CODE: Final = "maintenance"

Operation = tuple[str, str]  # (method, route template)

# The only writes a maintenance window lets through (module doc). Adding one is a review:
# it must move no money and be needed to run or end the window.
OPEN_DURING_MAINTENANCE: Final[frozenset[Operation]] = frozenset(
    {
        # Ending a window early, or scheduling the next one.
        ("POST", "/v1/staff/maintenance-windows"),
        ("DELETE", "/v1/staff/maintenance-windows/{window_id}"),
        # An operator signing in to do so (a first sign-in must replace its password).
        ("POST", "/v1/staff/sessions"),
        ("POST", "/v1/staff/sessions/refresh"),
        ("DELETE", "/v1/staff/sessions/current"),
        ("PUT", "/v1/staff/me/password"),
        # Signed-in customers keep reading through a long window.
        ("POST", "/v1/sessions/refresh"),
        ("DELETE", "/v1/sessions/current"),
        # ... and signing out of the web wallet ends the same session.
        ("POST", "/signout"),
        # The same in the staff console: an operator signs in (unlocks an idle screen,
        # replaces a one-time password) to end or schedule a window; typing keeps the
        # screen unlocked; signing out.
        ("POST", "/console/maintenance"),
        ("POST", "/console/maintenance/{window_id}/cancel"),
        ("POST", "/console/signin"),
        ("POST", "/console/signout"),
        ("POST", "/console/lock"),
        ("POST", "/console/password"),
        ("POST", "/console/activity"),
    }
)

Verdict = Literal["open", "refuse", "refuse_html"]


def is_guarded(method: str, path: str) -> bool:
    """Whether a window refuses ``method`` on the route template ``path`` (the app's own
    routes; mounted sandboxes are never refused). The OpenAPI document asks this too."""
    return method not in READ_METHODS and (method, path) not in OPEN_DURING_MAINTENANCE


@dataclass(frozen=True, slots=True)
class _Route:
    """One route of the app as the maintenance check sees it."""

    context: Any  # fastapi.routing.RouteContext: matches(scope) like the router
    verdict_for: dict[str, Verdict]  # by method; methods not listed: not this route's


def route_verdicts(app: FastAPI) -> dict[Operation, Verdict]:
    """Every write operation of ``app`` and what a maintenance window does to it."""
    verdicts: dict[Operation, Verdict] = {}
    for route in _routes(app):
        path = route.context.path
        for method, verdict in route.verdict_for.items():
            verdicts.setdefault((method, path), verdict)
    return verdicts


def _routes(app: FastAPI) -> list[_Route]:
    table = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            table.append(_Route(context, {}))  # a sandbox app: matched, always open
            continue
        path, methods = context.path, context.methods
        if not path or not methods:
            continue  # websockets and the like: never an HTTP write
        html = _answers_html(getattr(context, "response_class", None))
        verdict_for: dict[str, Verdict] = {}
        for method in methods - READ_METHODS:
            if not is_guarded(method, path):
                verdict_for[method] = "open"
            else:
                verdict_for[method] = "refuse_html" if html else "refuse"
        table.append(_Route(context, verdict_for))
    return table


def _answers_html(response_class: Any) -> bool:
    return isinstance(response_class, type) and issubclass(response_class, HTMLResponse)


def _verdict(routes: Iterable[_Route], scope: Scope) -> Verdict:
    """The verdict for the route the router would pick (the first full match)."""
    for route in routes:
        match, _ = route.context.matches(dict(scope))
        if match is Match.FULL:
            if isinstance(route.context.original_route, Mount):
                return "open"
            return route.verdict_for.get(scope["method"], "open")
    return "open"  # no route: 404 or 405, as without a window


def retry_after_seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _headers(retry_after: int, locale: i18n.Locale) -> dict[str, str]:
    return {"Retry-After": str(retry_after), "Content-Language": locale, "Vary": "Accept-Language"}


def maintenance_response(
    active: ActiveMaintenance, *, now: datetime, locale: i18n.Locale, scope: Scope
) -> JSONResponse:
    retry_after = retry_after_seconds(active.until, now)
    body: dict[str, Any] = {
        "type": problem_type(CODE),
        "title": i18n.title(CODE, locale),
        "status": 503,
        "detail": active.window.message or i18n.detail(CODE, None, locale),
        "code": CODE,
        "retry_after": retry_after,
        "ends_at": active.until.isoformat(),
    }
    scope.setdefault("state", {})[PROBLEM_CODE_STATE] = CODE
    return JSONResponse(
        body,
        status_code=503,
        headers=_headers(retry_after, locale),
        media_type=PROBLEM_MEDIA_TYPE,
    )


_pages = jinja2.Environment(
    loader=jinja2.PackageLoader("ewallet.ops", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
PAGE_TEXTS: Final[dict[str, dict[str, str]]] = {
    "zh-CN": {"back_at": "预计恢复时间（北京时间）", "nothing_done": "本次操作未执行，未扣款。"},
    "en": {"back_at": "Expected back at (Beijing time)", "nothing_done": "Nothing was done."},
}


def maintenance_page(
    active: ActiveMaintenance, *, now: datetime, locale: i18n.Locale, scope: Scope
) -> Response:
    """The refusal for a browser form (the checkout): the same facts, as a page."""
    retry_after = retry_after_seconds(active.until, now)
    nonce = secrets.token_urlsafe(16)
    html = _pages.get_template("maintenance.html").render(
        nonce=nonce,
        locale=locale,
        title=i18n.title(CODE, locale),
        detail=active.window.message or i18n.detail(CODE, None, locale),
        t=PAGE_TEXTS[locale],
        until=active.until.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M"),
    )
    scope.setdefault("state", {})[PROBLEM_CODE_STATE] = CODE
    headers = _headers(retry_after, locale) | {
        "Content-Security-Policy": f"default-src 'none'; style-src 'nonce-{nonce}'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(html, status_code=503, headers=headers)


class MaintenanceMiddleware:
    def __init__(self, app: ASGIApp, *, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app whose lifespan holds the services
        self._routes: list[_Route] | None = None  # built at the first refusal check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_METHODS:
            await self.app(scope, receive, send)
            return
        services = app_services(self.owner)
        active = await current_maintenance(services)
        if active is None:
            await self.app(scope, receive, send)
            return
        if self._routes is None:
            self._routes = _routes(self.owner)
        verdict = _verdict(self._routes, scope)
        if verdict == "open":
            await self.app(scope, receive, send)
            return
        locale = _page_locale(scope) if verdict == "refuse_html" else None
        locale = locale or i18n.negotiate_locale(_header(scope, b"accept-language"))
        refuse = maintenance_page if verdict == "refuse_html" else maintenance_response
        response = refuse(active, now=services.clock.now(), locale=locale, scope=scope)
        await response(scope, receive, send)


def _page_locale(scope: Scope) -> i18n.Locale | None:
    """The language a browser chose with the web pages' switch (the ``lang`` cookie)."""
    for part in (_header(scope, b"cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "lang" and value in (i18n.ZH_CN, i18n.EN):
            return i18n.EN if value == i18n.EN else i18n.ZH_CN
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def install_maintenance(app: FastAPI) -> None:
    """Enforce maintenance windows; add it inside the request-context middleware."""
    app.add_middleware(MaintenanceMiddleware, owner=app)
