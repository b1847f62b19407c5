"""Who may open what in the merchant portal: a walk over every portal route for every role.

``ROLE_MATRIX`` names each portal route (method and path) and the permission of
:mod:`ewallet.merchants.people.permissions` it needs (``None``: open before sign-in;
``SIGNED_IN``: any live session, even before the first sign-in's steps are done). The walk
checks the table names every route the app has, then for each role signs in once and asks
every route:

- a role the permission does not allow gets ``403`` for every GET and for every POST
  carrying a valid CSRF token -- nothing shown, nothing done;
- an allowed role is not refused; a made-up or another merchant's person id is ``404``;
- a POST without the CSRF token, or with the console's or the wallet's, is ``403``;
- without a session every page but sign-in sends to ``/merchant/signin``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select

from ewallet.merchants.people.permissions import (
    API_KEYS,
    REFUNDING,
    SALES_READING,
    SETTLEMENTS,
    STATIC_QR,
    TEAM,
    TILL,
    PortalPermission,
)
from ewallet.models.merchant_users import MERCHANT_ROLES
from ewallet.models.tables import audit_events, merchant_users
from ewallet.web.merchant.routing import MerchantRoute
from tests.fixtures.merchant_portal import LivePortal, MemberLogin, PortalClient

SIGNED_IN: Final = "signed-in"
Need = PortalPermission | str | None

ROLE_MATRIX: Final[dict[tuple[str, str], Need]] = {
    # The shell.
    ("GET", "/merchant"): None,
    ("GET", "/merchant/signin"): None,
    ("POST", "/merchant/signin"): None,
    ("POST", "/merchant/signout"): SIGNED_IN,
    ("GET", "/merchant/lock"): SIGNED_IN,
    ("POST", "/merchant/lock"): SIGNED_IN,
    ("GET", "/merchant/totp"): SIGNED_IN,
    ("POST", "/merchant/totp"): SIGNED_IN,
    ("GET", "/merchant/password"): SIGNED_IN,
    ("POST", "/merchant/password"): SIGNED_IN,
    ("POST", "/merchant/activity"): SALES_READING,
    ("GET", "/merchant/"): SALES_READING,
    # The team (owners only).
    ("GET", "/merchant/team"): TEAM,
    ("GET", "/merchant/team/new"): TEAM,
    ("POST", "/merchant/team/new"): TEAM,
    ("POST", "/merchant/team/{user_id}/reset-password"): TEAM,
    ("POST", "/merchant/team/{user_id}/disable"): TEAM,
    # Orders (every role reads them), refunds (owners and managers), settlements (owners and
    # managers) and the Developers page (owners).
    ("GET", "/merchant/orders"): SALES_READING,
    ("GET", "/merchant/orders/{order_id}"): SALES_READING,
    ("POST", "/merchant/orders/{order_id}/refund"): REFUNDING,
    ("GET", "/merchant/refunds"): REFUNDING,
    ("GET", "/merchant/settlements"): SETTLEMENTS,
    ("GET", "/merchant/settlements/{settlement_id}/statement.csv"): SETTLEMENTS,
    ("GET", "/merchant/settlements/{settlement_id}/statement.pdf"): SETTLEMENTS,
    ("GET", "/merchant/developers"): API_KEYS,
    ("POST", "/merchant/developers/keys"): API_KEYS,
    ("POST", "/merchant/developers/keys/{key_id}/rotate"): API_KEYS,
    ("POST", "/merchant/developers/keys/{key_id}/revoke"): API_KEYS,
    ("POST", "/merchant/developers/webhook"): API_KEYS,
    ("POST", "/merchant/developers/deliveries/{delivery_id}/replay"): API_KEYS,
    # The till (every role) and the static QR page (owners and managers).
    ("GET", "/merchant/till"): TILL,
    ("POST", "/merchant/till"): TILL,
    ("GET", "/merchant/till/sales/{order_id}"): TILL,
    ("GET", "/merchant/till/sales/{order_id}/refund"): TILL,
    ("POST", "/merchant/till/sales/{order_id}/refund"): TILL,
    ("GET", "/merchant/qr"): STATIC_QR,
    ("GET", "/merchant/qr/feed"): STATIC_QR,
    ("GET", "/merchant/qr/{token}.pdf"): STATIC_QR,
    ("POST", "/merchant/qr/{token}/regenerate"): STATIC_QR,
    ("POST", "/merchant/qr/stores"): STATIC_QR,
}
PLACEHOLDER: Final = re.compile(r"\{[^}]+\}")
NOT_SELF_ENDING: Final = {("POST", "/merchant/signout"), ("POST", "/merchant/lock")}


def portal_routes(live: LivePortal) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    assert live.shop.app is not None
    for context in iter_route_contexts(live.shop.app.routes):
        if isinstance(context.original_route, MerchantRoute) and context.path is not None:
            found.update((m, context.path) for m in context.methods or () if m != "HEAD")
    return found


def test_the_matrix_names_every_portal_route(live: LivePortal) -> None:
    routes = portal_routes(live)
    assert not sorted(routes - set(ROLE_MATRIX)), "portal routes missing from ROLE_MATRIX"
    assert not sorted(set(ROLE_MATRIX) - routes), "ROLE_MATRIX names routes that do not exist"


@pytest.fixture(scope="module")
def people(live: LivePortal) -> dict[str, MemberLogin]:
    bakery = live.merchant("Walk Bakery")
    return {role: live.member(bakery, role) for role in MERCHANT_ROLES}


@pytest.fixture(scope="module")
def stranger(live: LivePortal) -> MemberLogin:
    """A cashier of another merchant: their id must be 404 to everyone here."""
    return live.member(live.merchant("Other Shop"), "cashier")


@pytest.fixture(scope="module")
def browsers(live: LivePortal, people: dict[str, MemberLogin]) -> Iterator[dict[str, PortalClient]]:
    opened = {role: PortalClient(live, login) for role, login in people.items()}
    yield opened
    for browser in opened.values():
        browser.close()


def _allowed(need: Need, role: str) -> bool:
    if need is None or need == SIGNED_IN:
        return True
    assert isinstance(need, PortalPermission)
    return need.allows(role)


def _ask(browser: PortalClient, method: str, path: str, user_id: str) -> httpx.Response:
    url = PLACEHOLDER.sub(user_id, path)
    if method == "GET":
        return browser.client.get(url)
    return browser.post(url)


def _walked() -> list[tuple[str, str]]:
    return sorted(key for key, need in ROLE_MATRIX.items() if need is not None)


@pytest.mark.parametrize("route", _walked(), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_role_is_refused_exactly_where_the_matrix_says(
    browsers: dict[str, PortalClient], stranger: MemberLogin, route: tuple[str, str]
) -> None:
    method, path = route
    if route in NOT_SELF_ENDING:
        pytest.skip("ends or re-checks the walker's own session; test_portal_shell.py")
    need = ROLE_MATRIX[route]
    wrong = []
    for role, browser in browsers.items():
        answer = _ask(browser, method, path, stranger.id)
        refused = answer.status_code == 403
        if _allowed(need, role) == refused:
            wrong.append(f"{role}: {answer.status_code}")
        if "{user_id}" in path and not refused:
            # Another merchant's person: not found, never touched.
            assert answer.status_code == 404, (role, answer.status_code)
    assert not wrong, f"{method} {path} needs {need}: {wrong}"


def test_another_merchants_person_is_left_alone(
    live: LivePortal, browsers: dict[str, PortalClient], stranger: MemberLogin
) -> None:
    owner = browsers["owner"]
    before = live.run(_row_and_events(live, stranger.id))
    for action in ("disable", "reset-password"):
        answer = owner.post(f"/merchant/team/{stranger.id}/{action}")
        assert answer.status_code == 404
        assert stranger.email not in answer.text
    assert live.run(_row_and_events(live, stranger.id)) == before


async def _row_and_events(live: LivePortal, user_id: str) -> tuple[object, int]:
    async with live.shop.engine.connect() as conn:
        row = (
            await conn.execute(select(merchant_users).where(merchant_users.c.id == user_id))
        ).one()
        events = (
            await conn.execute(
                select(func.count()).where(
                    audit_events.c.subject_id == user_id,
                    audit_events.c.action.notin_(["merchant_user.created"]),
                )
            )
        ).scalar_one()
    return tuple(row), int(events)


@pytest.mark.parametrize(
    "route",
    sorted(k for k in ROLE_MATRIX if k[0] == "POST" and k != ("POST", "/merchant/signin")),
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_a_post_without_the_token_is_refused(
    browsers: dict[str, PortalClient], route: tuple[str, str]
) -> None:
    owner = browsers["owner"]
    url = PLACEHOLDER.sub("mu_x", route[1])
    assert owner.post(url, with_csrf=False).status_code == 403


def test_the_consoles_and_the_wallets_tokens_are_no_good_here(
    live: LivePortal, browsers: dict[str, PortalClient]
) -> None:
    owner = browsers["owner"]
    with httpx.Client(base_url=live.base_url) as other:
        console_token = csrf_of_console(other.get("/console/signin").text)
    for token in (console_token, "x" * 40, ""):
        answer = owner.client.post(
            "/merchant/team/new",
            data={"csrf": token, "email": "late@shop.example", "name": "Late", "role": "cashier"},
        )
        assert answer.status_code == 403
    assert "late@shop.example" not in owner.client.get("/merchant/team").text


def csrf_of_console(html: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("route", _walked(), ids=lambda r: f"{r[0]} {r[1]}")
def test_no_session_no_page(live: LivePortal, route: tuple[str, str]) -> None:
    method, path = route
    with httpx.Client(base_url=live.base_url) as anonymous:
        url = PLACEHOLDER.sub("mu_x", path)
        answer = anonymous.request(method, url, data={} if method == "POST" else None)
    if method == "POST":
        assert answer.status_code in (303, 403), answer.status_code
    else:
        assert answer.status_code == 303, answer.status_code
        assert answer.headers["location"].startswith("/merchant/signin")


def test_the_portal_cookie_is_scoped_and_http_only(
    live: LivePortal, people: dict[str, MemberLogin]
) -> None:
    browser = PortalClient(live)
    try:
        answer = browser.sign_in(people["cashier"])
        cookies = answer.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("ewallet_merchant="))
        assert "Path=/merchant" in session
        assert "HttpOnly" in session
        assert "SameSite=lax" in session or "SameSite=Lax" in session
    finally:
        browser.close()
