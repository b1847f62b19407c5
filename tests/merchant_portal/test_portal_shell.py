"""The merchant portal in Chromium: each role's sign-in (owners with the authenticator,
enrolled at the first sign-in; cashiers with a password alone), the failure lock, the idle
lock, the owner's Team page, and home's figures against payments made through the API.
Every page passes axe-core (0 serious or critical), its CSP and its weight budget; each
page is photographed into the test's folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import func, select

from ewallet.models.tables import merchant_user_sessions, merchant_users
from tests.fixtures.console import check_console_page, open_console_page
from tests.fixtures.merchant_portal import (
    LivePortal,
    MemberLogin,
    PortalClient,
    portal_sign_in,
)
from tests.fixtures.web import PIN, PageErrors

PHONE = ViewportSize(width=390, height=844)


def shoot(page: Page, name: str, tmp_path: Path) -> None:
    check_console_page(page)
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_owner_first_sign_in_enrols_the_authenticator_then_the_password(
    live: LivePortal, page: Page, tmp_path: Path
) -> None:
    owner = live.member(live.merchant("First Light Cafe"), "owner", ready=False)
    page.goto(live.url("/merchant/"))
    expect(page).to_have_url(re.compile(r"/merchant/signin"))
    shoot(page, "signin", tmp_path)
    portal_sign_in(page, live, owner, landing="/merchant/totp")
    shoot(page, "totp", tmp_path)
    secret = page.locator("code.mono").inner_text().strip()
    # Nothing else opens before the authenticator is enrolled.
    page.goto(live.url("/merchant/"))
    expect(page).to_have_url(live.url("/merchant/totp"))
    page.fill("#totp_code", "000000" if _code(secret, live) != "000000" else "111111")
    page.click("form[action='/merchant/totp'] button[type=submit]")
    expect(page.locator(".alert-error")).to_be_visible()
    page.goto(live.url("/merchant/totp"))
    assert page.locator("code.mono").inner_text().strip() == secret  # the same secret
    page.fill("#totp_code", _code(secret, live))
    page.click("form[action='/merchant/totp'] button[type=submit]")
    expect(page).to_have_url(live.url("/merchant/password"))
    shoot(page, "password", tmp_path)
    page.fill("#current_password", owner.password)
    page.fill("#new_password", "Bakery-Owner-2026!")
    page.fill("#confirm_password", "Bakery-Owner-2026!")
    page.click("form[action='/merchant/password'] button[type=submit]")
    expect(page).to_have_url(live.url("/merchant/"))
    expect(page.locator("nav.portal-nav")).to_contain_text("Team")
    # From now on sign-in asks for a code: the password alone is refused.
    with httpx.Client(base_url=live.base_url) as other:
        browser = PortalClient.__new__(PortalClient)
        browser.live, browser.client = live, other
        enrolled = MemberLogin(
            owner.id, owner.merchant_id, owner.email, "owner", "Bakery-Owner-2026!", secret
        )
        assert browser.sign_in(enrolled, totp_code="").status_code == 401
        assert browser.sign_in(enrolled).status_code == 303


def _code(secret: str, live: LivePortal) -> str:
    return pyotp.TOTP(secret).at(live.clock.now())


def test_home_shows_todays_sales_refunds_and_net_from_the_api(
    live: LivePortal, page: Page, tmp_path: Path
) -> None:
    merchant = live.merchant("Figures Deli")
    owner = live.member(merchant, "owner")
    customer = live.customer("500.00")
    shop = live.shop

    async def trade() -> None:
        for number, amount in (("A1", "12.30"), ("A2", "100.00"), ("A3", "0.70")):
            order_id = await shop.order(merchant, amount, out_trade_no=number)
            paid = await shop.pay(customer, order_id, pin=PIN)
            assert paid.status_code in (200, 201), paid.text
            if number == "A2":
                refunded = await shop.refund(merchant, order_id, "40.00", "R1")
                assert refunded.status_code in (200, 201), refunded.text

    live.run(trade())
    portal_sign_in(page, live, owner, landing="/merchant/")
    expect(page.locator("[data-figure=sales]")).to_have_text("¥113.00")
    expect(page.locator("[data-figure=refunds]")).to_have_text("¥40.00")
    expect(page.locator("[data-figure=net]")).to_have_text("¥73.00")
    expect(page.locator("main")).to_contain_text("Payments: 3")
    shoot(page, "home", tmp_path)
    # Another merchant's day is its own.
    other = live.member(live.merchant("Empty Kiosk"), "manager")
    second = page.context.browser.new_page()  # type: ignore[union-attr]
    try:
        portal_sign_in(second, live, other, landing="/merchant/")
        expect(second.locator("[data-figure=sales]")).to_have_text("¥0.00")
        expect(second.locator("nav.portal-nav")).not_to_contain_text("Team")
    finally:
        second.context.close()


def test_cashier_signs_in_with_a_password_alone_and_cannot_reach_the_team(
    live: LivePortal, page: Page, tmp_path: Path
) -> None:
    cashier = live.member(live.merchant("Till Shop"), "cashier")
    page.set_viewport_size(PHONE)
    portal_sign_in(page, live, cashier, landing="/merchant/")
    expect(page.locator("nav.portal-nav")).not_to_contain_text("Team")
    shoot(page, "home-cashier-phone", tmp_path)
    answer = page.goto(live.url("/merchant/team"))
    assert answer is not None
    assert answer.status == 403
    expect(page.locator("h1")).to_have_text("Not open to your role")
    shoot(page, "refused", tmp_path)


def test_wrong_passwords_lock_the_account(live: LivePortal) -> None:
    manager = live.member(live.merchant("Lock Mart"), "manager")
    browser = PortalClient(live)
    try:
        for _ in range(live.settings.login_lock_threshold):
            assert browser.sign_in(manager, password="not-the-password").status_code == 401
        locked = browser.sign_in(manager)  # the right password, during the lock
        assert locked.status_code == 429
        assert live.run(_sessions(live, manager.id)) == 0
        live.clock.advance(timedelta(minutes=live.settings.login_lock_minutes, seconds=1))
        assert browser.sign_in(manager).status_code == 303
    finally:
        browser.close()


async def _sessions(live: LivePortal, user_id: str) -> int:
    async with live.shop.engine.connect() as conn:
        found = await conn.execute(
            select(func.count()).where(merchant_user_sessions.c.merchant_user_id == user_id)
        )
        return int(found.scalar_one())


def test_an_idle_portal_locks_and_the_password_unlocks_it(
    live: LivePortal, page: Page, tmp_path: Path
) -> None:
    owner = live.member(live.merchant("Sleepy Shop"), "owner")
    portal_sign_in(page, live, owner, landing="/merchant/")
    live.clock.advance(timedelta(minutes=live.settings.merchant_idle_minutes, seconds=5))
    page.goto(live.url("/merchant/team"))
    expect(page).to_have_url(re.compile(r"/merchant/lock\?next=%2Fmerchant%2Fteam"))
    shoot(page, "lock", tmp_path)
    page.fill("#password", "wrong-password")
    page.click("form[action='/merchant/lock'] button[type=submit]")
    expect(page.locator(".alert-error")).to_be_visible()
    page.fill("#password", owner.password)
    page.click("form[action='/merchant/lock'] button[type=submit]")
    expect(page).to_have_url(live.url("/merchant/team"))


def test_owner_adds_a_cashier_who_signs_in_and_is_disabled(
    live: LivePortal, page: Page, tmp_path: Path
) -> None:
    merchant = live.merchant("Team Noodles")
    owner = live.member(merchant, "owner")
    portal_sign_in(page, live, owner, landing="/merchant/")
    page.click("nav.portal-nav >> text=Team")
    shoot(page, "team", tmp_path)
    page.click("text=Add a person")
    shoot(page, "team-new", tmp_path)
    page.fill("#name", "Li Na")
    page.fill("#email", "li.na@noodles.example")
    page.check("input[name=role][value=cashier]")
    page.click("form[action='/merchant/team/new'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Person added")
    shoot(page, "team-password", tmp_path)
    one_time = page.locator("[data-one-time-password]").inner_text().strip()
    row = live.run(_member_row(live, "li.na@noodles.example"))
    assert (row.role, row.merchant_id, row.must_change_password) == (
        "cashier",
        merchant.merchant.id,
        True,
    )
    assert one_time not in str(tuple(row))  # stored hashed

    cashier = MemberLogin(row.id, row.merchant_id, row.email, "cashier", one_time, None)
    till = PortalClient(live)
    try:
        assert till.sign_in(cashier).headers["location"] == "/merchant/password"
        assert till.client.get("/merchant/").headers["location"] == "/merchant/password"
        page.goto(live.url("/merchant/team"))
        page.once("dialog", lambda dialog: dialog.accept())
        page.click(f"tr[data-user='{row.id}'] button.button-danger")
        expect(page.locator(f"tr[data-user='{row.id}']")).to_contain_text("Disabled")
        # The cashier's session ended with the disabling.
        assert till.client.get("/merchant/password").status_code == 303
        assert till.sign_in(cashier).status_code == 403
    finally:
        till.close()


async def _member_row(live: LivePortal, email: str) -> Any:
    async with live.shop.engine.connect() as conn:
        return (
            await conn.execute(select(merchant_users).where(merchant_users.c.email == email))
        ).one()


def test_the_portal_speaks_chinese(live: LivePortal, browser_zh: Page) -> None:
    browser_zh.goto(live.url("/merchant/signin"))
    expect(browser_zh.locator("h1")).to_have_text("商户登录")
    check_console_page(browser_zh)


@pytest.fixture
def browser_zh(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    opened = open_console_page(browser, locale="zh-CN", errors=page_errors)
    yield opened
    opened.context.close()


def test_sign_out_ends_the_session(live: LivePortal) -> None:
    cashier = live.member(live.merchant("Goodbye Shop"), "cashier")
    browser = PortalClient(live, cashier)
    try:
        session_cookie = browser.client.cookies.get("ewallet_merchant")
        assert session_cookie is not None
        assert browser.post("/merchant/signout").headers["location"] == "/merchant/signin"
        assert browser.client.get("/merchant/").headers["location"].startswith("/merchant/signin")
        # The old cookie, replayed, names a revoked session.
        with httpx.Client(base_url=live.base_url) as replay:
            replay.cookies.set("ewallet_merchant", session_cookie, path="/merchant")
            answer = replay.get("/merchant/")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/merchant/signin")
    finally:
        browser.close()
