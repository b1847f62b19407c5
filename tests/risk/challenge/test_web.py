"""A challenged transfer completed in the web wallet (Chromium, SQLite and PostgreSQL): the
PIN, then the step-up page instead of a refusal -- a wrong code, a code sent again, the
right one with the PIN again -- and the transfer made once; an order paid the same way."""

from __future__ import annotations

import os
from datetime import timedelta

from playwright.sync_api import Page, expect

from ewallet.models.identity import CodePurpose
from ewallet.models.risk import RuleAction
from tests.fixtures.accounts import PIN
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.risk.engine.helpers import install, rule
from tests.web.conftest import browser, browser_zh, live, page, page_errors

__all__ = ["browser", "browser_zh", "live", "page", "page_errors"]

# Set to a folder to keep the step-up page's picture (phone size) there.
SHOTS = os.environ.get("EWALLET_STEP_UP_SHOTS")


def national(phone: str) -> str:
    digits = phone.removeprefix("+86")
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"


def test_a_challenged_transfer_is_completed_in_the_browser(page: Page, live: LiveWallet) -> None:
    sender = live.customer("1000.00")
    payee = live.customer("0.00")
    live.run(install(live.shop, rule("ask", "amount >= 100", RuleAction.CHALLENGE)))
    sign_in(page, live, sender)
    page.goto(live.url("/transfer"))
    page.fill("#to_phone", national(payee.phone))
    page.fill("#amount", "150")
    page.click("form[action='/transfer/confirm'] button[type=submit]")
    page.check("input[name=acknowledge_new_payee]")  # a first transfer: the scam warning
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Transfer now").click()

    # The step-up page, not a refusal: nothing moved yet.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("¥150.00")
    expect(page.get_by_text("We have texted a code to your phone")).to_be_visible()
    check_page(page)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/transfer-step-up-{live.backend}.png", full_page=True)
    assert (live.balance(sender), live.balance(payee)) == (1000_00, 0)

    # A wrong code: said so, nothing moved, the form still there.
    first = live.sms(sender.phone, CodePurpose.STEP_UP)
    page.fill("#code", "000000" if first != "000000" else "111111")
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Confirm and pay").click()
    expect(page.locator("#form-error")).to_be_visible()
    assert (live.balance(sender), live.balance(payee)) == (1000_00, 0)

    # Another code, once the resend interval has passed.
    live.clock.advance(timedelta(seconds=61))
    page.get_by_role("button", name="Send the code again").click()
    expect(page.get_by_text("We have texted a new code to your phone.")).to_be_visible()
    code = live.sms(sender.phone, CodePurpose.STEP_UP)
    page.fill("#code", code)
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Confirm and pay").click()
    expect(page.get_by_role("heading", name="Transfer sent")).to_be_visible()
    assert page.url.startswith(live.url("/transfers/trf_"))
    expect(page.locator(".receipt")).to_contain_text("¥150.00")
    assert (live.balance(sender), live.balance(payee)) == (850_00, 150_00)


def test_a_challenged_order_is_paid_in_the_browser(page: Page, live: LiveWallet) -> None:
    payer = live.customer("500.00")
    merchant = live.run(live.shop.merchant("Tea House"))
    order_id = live.run(live.shop.order(merchant, "120.00", out_trade_no="WEB-1"))
    live.run(
        install(live.shop, rule("ask", "amount >= 100", RuleAction.CHALLENGE, events=("payment",)))
    )
    sign_in(page, live, payer)
    page.goto(live.url(f"/pay/order?order={order_id}"))
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Pay ¥120.00").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Tea House")
    assert live.balance(payer) == 500_00
    # A wrong PIN after the right code: only the PIN is asked again.
    page.fill("#code", live.sms(payer.phone, CodePurpose.STEP_UP))
    page.fill("#payment_password", "000000" if PIN != "000000" else "111111")
    page.get_by_role("button", name="Confirm and pay").click()
    expect(page.get_by_text("The code was right.")).to_be_visible()
    expect(page.locator("#code")).to_have_count(0)
    assert live.balance(payer) == 500_00
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Confirm and pay").click()
    expect(page.get_by_text("¥120.00").first).to_be_visible()
    assert page.url.startswith(live.url("/pay/receipts/"))
    assert live.balance(payer) == 380_00


def test_the_step_up_page_speaks_chinese(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    sender = live.customer("1000.00")
    payee = live.customer("0.00")
    live.run(install(live.shop, rule("ask", "amount >= 100", RuleAction.CHALLENGE)))
    sign_in(page, live, sender)
    page.goto(live.url("/transfer"))
    page.fill("#to_phone", national(payee.phone))
    page.fill("#amount", "200")
    page.click("form[action='/transfer/confirm'] button[type=submit]")
    page.check("input[name=acknowledge_new_payee]")  # a first transfer: the scam warning
    page.fill("#payment_password", PIN)
    page.click("form[action='/transfer'] button.button-primary")
    expect(page.get_by_role("heading", name="验证身份")).to_be_visible()
    expect(page.get_by_text("为保障您的资金安全")).to_be_visible()
    expect(page.get_by_role("button", name="确认付款")).to_be_visible()
    expect(page.get_by_role("button", name="重新发送验证码")).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/transfer-step-up-zh-{live.backend}.png", full_page=True)
    assert live.balance(payee) == 0
