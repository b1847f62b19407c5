"""An open-amount payment link in a real browser (Debian's Chromium): the payer types the
amount, goes on to the checkout page, signs in and pays; a disabled link says so. One served
wallet per backend and one browser for the module (tests/fixtures/web.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from ewallet.models.identity import CodePurpose
from tests.conftest import BACKENDS
from tests.fixtures.web import (
    LOGIN_PASSWORD,
    PIN,
    LiveWallet,
    PageErrors,
    launch_browser,
    live_wallet_for,
    open_page,
)

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveWallet]:
    folder = tmp_path_factory.mktemp(f"links-{request.param}")
    yield from live_wallet_for(str(request.param), request, folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    errors = PageErrors()
    opened = open_page(browser, errors=errors)
    yield opened
    opened.context.close()
    assert not errors, f"the page logged errors: {errors}"


def make_link(live: LiveWallet, name: str, **body: Any) -> dict[str, Any]:
    merchant = live.run(live.shop.merchant(name))
    with httpx.Client(base_url=live.base_url) as client:
        answer = client.post(
            "/v1/merchant/payment-links",
            json={"subject": "Noodles", **body},
            headers={"Authorization": f"Bearer {merchant.api_key}"},
        )
        assert answer.status_code == 201, answer.text
        link: dict[str, Any] = answer.json()["payment_link"]
        link["api_key"] = merchant.api_key
        return link


def test_open_amount_typed_then_paid_at_checkout(
    live: LiveWallet, page: Page, tmp_path: Path
) -> None:
    link = make_link(live, "Noodle Bar")
    user = live.customer("50.00")
    page.goto(link["url"])
    expect(page.locator("h1")).to_have_text("Noodle Bar")
    expect(page.locator(".subject")).to_have_text("Noodles")
    results = Axe().run(page)
    serious = [
        v["id"]
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert serious == []

    page.fill("#amount", "1.2.3")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("The amount is not valid")
    page.fill("#amount", "18.80")
    shot = tmp_path / "payment-link.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
    page.click("button[type=submit]")

    expect(page).to_have_url(re.compile(r"/checkout/ord_[0-9a-z]{26}$"))
    expect(page.locator(".amount")).to_have_text("¥18.80")
    page.fill("#phone", user.phone)
    page.fill("#password", LOGIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#pin, #code")).to_be_visible()
    if page.locator("#code").count():
        page.fill("#code", live.sms(user.phone, CodePurpose.STEP_UP))
        page.click("button[type=submit]")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    expect(page.locator(".status.ok")).to_be_visible()
    assert live.balance(user) == 50_00 - 18_80


def test_a_disabled_link_says_so(live: LiveWallet, page: Page) -> None:
    link = make_link(live, "Closed Shop", amount="3.00")
    with httpx.Client(base_url=live.base_url) as client:
        off = client.post(
            f"/v1/merchant/payment-links/{link['id']}/disable",
            headers={"Authorization": f"Bearer {link['api_key']}"},
        )
        assert off.status_code == 200
    response = page.goto(link["url"])
    assert response is not None
    assert response.status == 410
    expect(page.locator(".status")).to_have_text("This payment link has been disabled")
    assert page.locator("form").count() == 0
