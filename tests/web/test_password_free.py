"""Password-free small payments in the web wallet: off by default; turned on and the limit
changed with the payment password; turned off without it; a limit over ¥1,000 refused
before the password is checked (nothing changed, not even an attempt counted) and a wrong
password leaving the setting as it was."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ewallet.payments.password_free.service import get_setting
from ewallet.payments.password_free.views import PasswordFreeView
from tests.fixtures.shop import TestUser
from tests.fixtures.web import PIN, LiveWallet, check_page, sign_in

WRONG_PIN = "000000"


def setting(live: LiveWallet, user: TestUser) -> PasswordFreeView:
    return live.run(get_setting(live.shop.services, user.id))


def turn_on(page: Page, cap: str, pin: str = PIN) -> None:
    page.get_by_label("Limit per payment (¥)").fill(cap)
    page.get_by_label("Payment password (6 digits)").fill(pin)
    page.locator("form[action='/me/password-free'] button.button-primary").click()


def test_turn_on_change_the_limit_and_turn_off(page: Page, live: LiveWallet) -> None:
    user = live.customer("10.00")
    sign_in(page, live, user)
    page.goto(live.url("/me/password-free"))
    expect(page.locator(".setting-state")).to_contain_text("Off")
    expect(page.locator("main")).to_contain_text("at most ¥1,000.00 and 10 payments a day")
    check_page(page)

    turn_on(page, "200.00")
    expect(page.get_by_role("status")).to_contain_text("Payments up to ¥200.00")
    expect(page.locator(".setting-state")).to_contain_text("On")
    assert page.url.endswith("/me/password-free?saved=on")
    check_page(page)
    assert setting(live, user).enabled
    cap = setting(live, user).per_payment_cap
    assert cap is not None
    assert cap.minor == 200_00

    expect(page.get_by_role("heading", name="Change the limit")).to_be_visible()
    turn_on(page, "500")
    expect(page.get_by_role("status")).to_contain_text("Payments up to ¥500.00")
    cap = setting(live, user).per_payment_cap
    assert cap is not None
    assert cap.minor == 500_00

    page.get_by_role("button", name="Turn off password-free payments").click()
    expect(page.get_by_role("status")).to_contain_text("Turned off")
    expect(page.locator(".setting-state")).to_contain_text("Off")
    assert not setting(live, user).enabled


def test_a_limit_over_1000_is_refused_without_counting_a_pin_attempt(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("10.00")
    sign_in(page, live, user)
    page.goto(live.url("/me/password-free"))
    before = live.snapshot(user)
    turn_on(page, "1500.00")
    expect(page.get_by_role("alert")).to_contain_text(
        "Choose a limit more than ¥0.00 and at most ¥1,000.00"
    )
    expect(page.get_by_label("Limit per payment (¥)")).to_have_value("1500.00")
    expect(page.get_by_label("Payment password (6 digits)")).to_have_value("")
    check_page(page)
    assert live.snapshot(user) == before
    assert not setting(live, user).enabled


def test_a_wrong_pin_leaves_the_setting_as_it_was(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    user = live.customer("10.00")
    sign_in(page, live, user)
    page.goto(live.url("/me/password-free"))
    page.get_by_label("单笔限额（元）").fill("300.00")
    page.get_by_label("支付密码（6 位数字）").fill(WRONG_PIN)
    page.locator("form[action='/me/password-free'] button.button-primary").click()
    expect(page.get_by_role("alert")).to_contain_text("支付密码错误")
    expect(page.get_by_label("单笔限额（元）")).to_have_value("300.00")
    check_page(page)
    after = setting(live, user)
    assert not after.enabled
    assert after.per_payment_cap is None
