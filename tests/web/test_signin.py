"""Signing in and out of the web wallet: the landing page, sign-in with the SMS step-up of a
new browser, the same session as the API's (signing out here ends it there), refusals in
the reader's language with nothing changed, and forms refused without their CSRF token."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import sessions
from tests.fixtures.web import LiveWallet, check_page, sign_in


def test_landing_then_sign_in_with_step_up_and_sign_out_ends_the_session(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer()
    live.phone_app(user)
    page.goto(live.url("/"))
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Sign in").first.click()
    page.fill("#phone", user.phone)
    page.fill("#password", "correct horse battery")
    page.click("form[action='/signin'] button[type=submit]")
    expect(page.get_by_text("This is a new browser")).to_be_visible()
    check_page(page)
    page.fill("#code", live.sms(user.phone, CodePurpose.STEP_UP))
    page.click("form[action='/signin/step-up'] button[type=submit]")
    expect(page.locator("nav.tabbar")).to_be_visible()
    assert page.url == live.url("/")
    cookie = next(c for c in page.context.cookies() if c["name"] == "ewallet_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    session_id = cookie["value"].rpartition(".")[0]

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    ended = live.run(_session_revoked(live, session_id))
    assert ended
    page.goto(live.url("/"))
    expect(page.locator("nav.tabbar")).to_have_count(0)


async def _session_revoked(live: LiveWallet, session_id: str) -> bool:
    async with live.shop.engine.connect() as conn:
        revoked = await conn.scalar(
            select(sessions.c.revoked_at).where(sessions.c.id == session_id)
        )
    return revoked is not None


def test_a_known_browser_signs_in_without_a_code(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    live.phone_app(user)
    sign_in(page, live, user)
    page.get_by_role("button", name="Sign out").click()
    page.goto(live.url("/signin"))
    page.fill("#phone", user.phone)
    page.fill("#password", "correct horse battery")
    page.click("form[action='/signin'] button[type=submit]")
    expect(page.locator("nav.tabbar")).to_be_visible()


def test_wrong_password_is_refused_in_chinese_and_changes_nothing_visible(
    browser_zh: Page, live: LiveWallet
) -> None:
    page = browser_zh
    user = live.customer()
    page.goto(live.url("/signin"))
    page.fill("#phone", user.phone)
    page.fill("#password", "not the password")
    page.click("form[action='/signin'] button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("手机号或密码错误")
    expect(page.locator("#phone")).to_have_value(user.phone)
    expect(page.locator("#password")).to_have_value("")
    check_page(page)


def test_language_switch_sticks(page: Page, live: LiveWallet) -> None:
    page.goto(live.url("/signin"))
    expect(page.locator("h1")).to_have_text("Sign in")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("h1")).to_have_text("登录")
    page.goto(live.url("/"))
    expect(page.get_by_role("link", name="登录").first).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"


def test_a_form_without_its_token_is_refused_and_signs_nobody_in(live: LiveWallet) -> None:
    user = live.customer()
    with httpx.Client(base_url=live.base_url) as client:
        client.get("/signin")  # a device cookie, but no token in the form
        refused = client.post(
            "/signin", data={"phone": user.phone, "password": "correct horse battery"}
        )
        assert refused.status_code == 403
        assert "ewallet_session" not in refused.cookies
        assert refused.headers["content-security-policy"].startswith("default-src 'self'")


def test_next_never_leaves_the_site(live: LiveWallet) -> None:
    with httpx.Client(base_url=live.base_url) as client:
        answer = client.get("/lang/en", params={"next": "//evil.example/"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"
