"""A forgotten login password, in the browser: phone, SMS code, a new password; every
session of the account ends (the browser sends no token to keep), the new password signs
in and the old one no longer does. A wrong code or a weak password changes nothing."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import LOGIN_PASSWORD
from tests.fixtures.web import LiveWallet, check_page, next_phone, sign_in

NEW_PASSWORD = "Lanterns over the west lake"


def ask_code(page: Page, live: LiveWallet, phone: str) -> None:
    page.goto(live.url("/forgot-password"))
    page.fill("#phone", phone)
    page.get_by_role("button", name="Send code").click()
    expect(page.locator("#code")).to_be_visible()


def submit(page: Page, code: str, password: str) -> None:
    page.fill("#code", code)
    page.fill("#password", password)
    page.get_by_role("button", name="Save new password").click()


def test_reset_signs_out_everywhere_and_the_new_password_works(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer()
    before = live.snapshot(user)
    page.goto(live.url("/signin"))
    page.get_by_role("link", name="Forgot your login password?").click()
    expect(page.locator("h1")).to_have_text("Reset your login password")
    check_page(page)
    page.fill("#phone", user.phone)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("status")).to_contain_text("139****")
    check_page(page)
    submit(page, live.sms(user.phone, CodePurpose.RESET_LOGIN_PASSWORD), NEW_PASSWORD)

    expect(page.locator("h1")).to_have_text("Your login password is changed")
    check_page(page)
    after = live.snapshot(user)
    assert after["revoked_sessions"] == before["revoked_sessions"] + 1  # the app's session
    assert after["user"]["login_password_hash"] != before["user"]["login_password_hash"]

    page.get_by_role("link", name="Sign in").first.click()
    page.fill("#phone", user.phone)
    page.fill("#password", LOGIN_PASSWORD)
    page.click("form[action='/signin'] button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Wrong phone number or password")
    sign_in(page, live, user, password=NEW_PASSWORD)


def test_a_wrong_code_changes_nothing(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    ask_code(page, live, user.phone)
    code = live.sms(user.phone, CodePurpose.RESET_LOGIN_PASSWORD)
    before = live.snapshot(user)
    submit(page, f"{(int(code) + 1) % 1_000_000:06d}", NEW_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("The verification code is wrong")
    expect(page.locator("#code")).to_have_value("")
    expect(page.locator("#password")).to_have_value("")
    assert live.snapshot(user) == before


def test_a_weak_password_changes_nothing_and_keeps_the_code(
    browser_zh: Page, live: LiveWallet
) -> None:
    page = browser_zh
    user = live.customer()
    page.goto(live.url("/forgot-password"))
    page.fill("#phone", user.phone)
    page.get_by_role("button", name="获取验证码").click()
    code = live.sms(user.phone, CodePurpose.RESET_LOGIN_PASSWORD)
    before = live.snapshot(user)
    page.fill("#code", code)
    page.fill("#password", "password")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.locator("#password-error")).to_contain_text("最常被使用的密码")
    expect(page.locator("#code")).to_have_value(code)
    check_page(page)
    assert live.snapshot(user) == before


def test_a_phone_without_a_wallet_learns_nothing(page: Page, live: LiveWallet) -> None:
    phone = next_phone()
    ask_code(page, live, phone)
    expect(page.get_by_role("status")).to_contain_text("If 139****")
    submit(page, "123456", NEW_PASSWORD)  # a code row was written, no SMS sent
    expect(page.get_by_role("alert")).to_contain_text("The verification code")
