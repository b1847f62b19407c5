"""Every page of the wallet, found by walking the app's routes (so a new page is covered
without anyone listing it): the headers every page carries, the sign-in wall, CSRF on
every form post, and sign-in by keyboard alone.

Signed out, a page either is public (200) or sends the browser to sign in (303 to
``/signin?next=...``) or back to the start of its form (303, within the site); signed in,
it answers 200 (or redirects within the site, or 422 for a missing query). Each answer
carries the strict CSP and ``Cache-Control: no-store``. A POST to any page route
without the form token is refused with 403 and no session is opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from playwright.sync_api import Page, expect

from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.routing import WebRoute
from tests.fixtures.accounts import LOGIN_PASSWORD
from tests.fixtures.web import LiveWallet

CSP_START: Final = "default-src 'self'; script-src 'self'; style-src 'self'"
NOT_PAGES: Final = {"/manifest.webmanifest", "/lang/{locale}"}


@dataclass(frozen=True)
class PageRoute:
    path: str
    methods: set[str]


def page_routes(live: LiveWallet) -> list[PageRoute]:
    app = live.shop.app
    assert app is not None
    return [
        PageRoute(context.path, set(context.methods or ()))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, WebRoute)
        and not isinstance(context.original_route, ConsoleRoute)  # tests/console/
        and context.path is not None
        and context.path not in NOT_PAGES
    ]


@contextmanager
def signed_in_client(live: LiveWallet) -> Iterator[httpx.Client]:
    user = live.customer()
    with httpx.Client(base_url=live.base_url, follow_redirects=False) as client:
        sign_in_over_http(client, user.phone)
        yield client


@contextmanager
def anonymous_client(live: LiveWallet) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, follow_redirects=False) as client:
        yield client


def sign_in_over_http(client: httpx.Client, phone: str) -> None:
    form = client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = client.post(
        "/signin",
        data={"csrf": csrf.group(1), "phone": phone, "password": LOGIN_PASSWORD},
    )
    assert answer.status_code == 303, answer.text


def test_every_page_carries_the_headers_and_the_sign_in_wall(live: LiveWallet) -> None:
    routes = [r for r in page_routes(live) if "GET" in r.methods and "{" not in r.path]
    assert len(routes) >= 5
    with httpx.Client(base_url=live.base_url, follow_redirects=False) as anonymous:
        for route in routes:
            answer = anonymous.get(route.path)
            assert answer.status_code in (200, 303, 422), (route.path, answer.status_code)
            if answer.status_code == 303:  # to sign in, or a form's GET back to its start
                location = answer.headers["location"]
                assert location.startswith("/"), route.path
                assert not location.startswith("//"), route.path
            else:
                assert answer.headers["content-security-policy"].startswith(CSP_START), route.path
            assert answer.headers["cache-control"] == "no-store", route.path
    with signed_in_client(live) as client:
        for route in routes:
            answer = client.get(route.path)
            # 422: a page whose query (a month, an amount) is missing says so as a page.
            assert answer.status_code in (200, 303, 422), (route.path, answer.status_code)
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/"), route.path
                assert not answer.headers["location"].startswith("/signin"), route.path
                continue
            assert answer.headers["content-security-policy"].startswith(CSP_START), route.path
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "same-origin"
            title = re.search(r"<title>(.*?)</title>", answer.text, re.S)
            assert title is not None, route.path
            assert not re.search(r"1[3-9]\d{9}", title.group(1)), route.path


@pytest.mark.parametrize("signed_in", [False, True])
def test_no_form_post_is_accepted_without_its_token(live: LiveWallet, signed_in: bool) -> None:
    posts = [r for r in page_routes(live) if "POST" in r.methods]
    assert posts
    with signed_in_client(live) if signed_in else anonymous_client(live) as client:
        client.get("/")
        for route in posts:
            path = re.sub(r"\{[^}]+\}", "x", route.path)
            answer = client.post(path, data={"csrf": "forged", "amount": "1.00"})
            if route.path == "/signout" or (answer.status_code == 404 and "{" in route.path):
                continue
            if not signed_in and answer.status_code == 303:  # a signed-in page: sign in first
                assert answer.headers["location"].startswith("/signin"), route.path
                continue
            assert answer.status_code == 403, (route.path, answer.status_code)
            assert (
                "set-cookie" not in answer.headers
                or "ewallet_session=" not in answer.headers["set-cookie"]
            ), route.path


def test_sign_in_by_keyboard_alone(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    page.goto(live.url("/signin"))
    page.keyboard.press("Tab")  # the skip link
    expect(page.locator(".skip")).to_be_focused()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "phone":
            break
    expect(page.locator("#phone")).to_be_focused()
    page.keyboard.type(user.phone)
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(LOGIN_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("nav.tabbar")).to_be_visible()
