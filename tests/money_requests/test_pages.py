"""The receive code and money-request pages in Debian's Chromium, on both databases: scan a
code (open ``/r/<token>``) and pay it; reset it; ask, pay and decline requests with
JavaScript off; refusals shown with nothing moved. ``EWALLET_MONEY_REQUEST_SHOTS=<dir>``
saves phone-size screenshots of the receive-code and incoming-request pages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from ewallet.models.tables import users
from tests.conftest import BACKENDS
from tests.fixtures.accounts import TestUser
from tests.fixtures.web import (
    PIN,
    LiveWallet,
    PageErrors,
    check_page,
    launch_browser,
    live_wallet_for,
    open_page,
    sign_in,
)

SHOTS = os.environ.get("EWALLET_MONEY_REQUEST_SHOTS")


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveWallet]:
    folder = tmp_path_factory.mktemp(f"web-money-requests-{request.param}")
    yield from live_wallet_for(str(request.param), request, folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


def _page(browser: Browser, **options: Any) -> Iterator[Page]:
    errors = PageErrors()
    opened = open_page(browser, errors=errors, **options)
    yield opened
    opened.context.close()
    assert not errors, f"the page logged errors: {errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized English page; the test fails if the page logged an error."""
    yield from _page(browser)


@pytest.fixture
def page_zh(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, locale="zh-CN")


def named(live: LiveWallet, funds: str, name: str) -> TestUser:
    user = live.customer(funds)

    async def work() -> None:
        async with live.shop.engine.begin() as conn:
            await conn.execute(
                update(users).where(users.c.id == user.id).values(real_name_masked=name)
            )

    live.run(work())
    return user


def token_of(live: LiveWallet, user: TestUser) -> str:
    response = live.run(live.shop.client.get("/v1/me/receive-code", headers=live.shop.auth(user)))
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_scan_a_receive_code_and_pay_it(page: Page, live: LiveWallet, browser: Browser) -> None:
    payee = named(live, "0.00", "*丽")
    payer = live.customer("100.00")
    # The payee's own page shows the code (the QR of /r/<token>) and sets a fixed amount.
    sign_in(page, live, payee)
    page.goto(live.url("/"))
    page.get_by_role("link", name="Receive").click()
    expect(page.get_by_role("heading", name="My receive code")).to_be_visible()
    expect(page.locator(".qr-frame svg")).to_be_visible()
    check_page(page)
    token = token_of(live, payee)
    expect(page.locator(".code-link")).to_contain_text(f"/r/{token}")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/receive-code-{live.backend}.png", full_page=True)

    # The payer "scans" it: opens the URL the QR holds, signed in on their own phone.
    payer_page = next(_page(browser))
    sign_in(payer_page, live, payer)
    payer_page.goto(live.url(f"/r/{token}"))
    main = payer_page.locator("main")
    expect(main).to_contain_text("*丽")
    expect(main).to_contain_text("First transfer to this person")
    check_page(payer_page)
    payer_page.get_by_label("Amount (yuan)").fill("12.30")
    payer_page.get_by_label("Payment password (6 digits)").fill("000000")
    payer_page.get_by_role("button", name="Transfer now").click()
    expect(payer_page.locator("#form-error")).to_be_visible()
    expect(payer_page.get_by_label("Amount (yuan)")).to_have_value("12.30")
    assert (live.balance(payer), live.balance(payee)) == (100_00, 0)
    payer_page.get_by_label("Payment password (6 digits)").fill(PIN)
    payer_page.get_by_role("button", name="Transfer now").click()
    expect(payer_page.locator("main")).to_contain_text("¥12.30")
    assert "/transfers/" in payer_page.url
    assert (live.balance(payer), live.balance(payee)) == (100_00 - 12_30, 12_30)

    # A fixed amount, then a reset: the old code no longer pays.
    page.get_by_label("Amount (yuan)").fill("5.00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    payer_page.goto(live.url(f"/r/{token}"))
    expect(payer_page.locator(".facts")).to_contain_text("¥5.00")
    page.get_by_role("button", name="Reset the code").click()
    expect(page.get_by_text("the old one no longer works")).to_be_visible()
    payer_page.goto(live.url(f"/r/{token}"))
    expect(payer_page.get_by_role("alert")).to_contain_text("no longer works")
    expect(payer_page.get_by_label("Payment password (6 digits)")).to_have_count(0)
    payer_page.context.close()


@pytest.mark.parametrize("javascript", [False])
def test_ask_then_pay_and_decline_with_javascript_off(
    browser: Browser, live: LiveWallet, javascript: bool
) -> None:
    requester = named(live, "0.00", "王*")
    payer = live.customer("50.00")
    ask = live.shop.client.post
    for amount in ("8.80", "3.00"):
        response = live.run(
            ask(
                "/v1/money-requests",
                json={"phone": payer.phone, "amount": amount, "note": "奶茶"},
                headers=live.shop.auth(requester, **{"Idempotency-Key": f"ask-{amount}"}),
            )
        )
        assert response.status_code == 201, response.text
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, java_script_enabled=javascript
    )
    page = context.new_page()
    sign_in(page, live, payer)
    page.goto(live.url("/requests"))
    items = page.locator(".request-list li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("王*")
    expect(items.first).to_contain_text("待付款")
    items.first.locator("a").click()
    expect(page.get_by_role("heading", name="向您发起收款")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("¥3.00")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/money-request-incoming-{live.backend}.png", full_page=True)
    page.get_by_role("button", name="拒绝付款").click()
    expect(page.locator(".facts")).to_contain_text("对方已拒绝")
    page.goto(live.url("/requests"))
    page.locator(".request-list li").nth(1).locator("a").click()
    page.get_by_label("支付密码（6 位数字）").fill(PIN)
    page.get_by_role("button", name="立即付款").click()
    expect(page.locator("main")).to_contain_text("¥8.80")
    assert "/transfers/" in page.url
    assert live.balance(payer) == 50_00 - 8_80
    assert live.balance(requester) == 8_80
    # The receive-code page in Chinese, without JavaScript: the QR is inline SVG.
    page.goto(live.url("/receive"))
    expect(page.get_by_role("heading", name="我的收款码")).to_be_visible()
    expect(page.locator(".qr-frame svg")).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/receive-code-zh-{live.backend}.png")
    context.close()
