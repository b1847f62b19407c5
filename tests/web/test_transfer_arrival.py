"""Delayed transfers in the web wallet (JavaScript on, a phone-sized Chromium): a 2-hour
transfer to a first-time payee -- the arrival chosen, the scam warning ticked -- then
cancelled from its receipt, the money back and the payee never credited; the default
arrival set on the settings page preselects the form."""

from __future__ import annotations

import os

from playwright.sync_api import Page, expect

from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.accounts import PIN
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.web.test_transfers import masked, named, national, transfers_sent

SHOTS = os.environ.get("EWALLET_SCREENSHOTS_DIR")  # set to look at the pages


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_two_hour_transfer_then_cancel(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    sender, payee = live.customer("100.00"), live.customer("0")
    named(live, payee, "*明")
    sign_in(page, live, sender)
    page.goto(live.url("/transfer"))
    expect(page.locator("input[name=arrival][value=realtime]")).to_be_checked()
    page.fill("#to_phone", national(payee))
    page.fill("#amount", "25.00")
    page.check("input[name=arrival][value='2h']")
    shot(page, "transfer-form")
    check_page(page)
    page.get_by_role("button", name="下一步").click()

    expect(page.locator(".payee-phone")).to_have_text(masked(payee))
    expect(page.locator(".facts")).to_contain_text("2小时到账")
    expect(page.locator(".scam-warning")).to_contain_text("首次向该用户转账")
    page.check("input[name=acknowledge_new_payee]")
    page.fill("#payment_password", PIN)
    shot(page, "transfer-confirm")
    check_page(page)
    page.get_by_role("button", name="立即转账").click()

    expect(page.get_by_role("heading", name="转账已受理，等待到账")).to_be_visible()
    expect(page.locator(".receipt")).to_contain_text("¥25.00")
    expect(page.locator(".facts")).to_contain_text("预计到账")
    assert (live.balance(sender), live.balance(payee)) == (100_00, 0)  # held, not posted
    shot(page, "transfer-scheduled")
    check_page(page)

    page.get_by_role("button", name="撤销这笔转账").click()
    expect(page.get_by_role("heading", name="转账已撤销")).to_be_visible()
    expect(page.get_by_role("button", name="撤销这笔转账")).to_have_count(0)
    shot(page, "transfer-cancelled")
    check_page(page)
    assert (live.balance(sender), live.balance(payee)) == (100_00, 0)
    assert transfers_sent(live, sender) == 1


def test_the_default_arrival_preselects_the_form(page: Page, live: LiveWallet) -> None:
    sender = live.customer("10.00")
    sign_in(page, live, sender)
    page.goto(live.url("/transfer"))
    page.get_by_role("link", name="Change the default").click()
    expect(page.locator("input[name=default_arrival][value=realtime]")).to_be_checked()
    page.check("input[name=default_arrival][value=next_day]")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    shot(page, "transfer-settings")
    check_page(page)
    page.goto(live.url("/transfer"))
    expect(page.locator("input[name=arrival][value=next_day]")).to_be_checked()


def test_a_transfer_to_someone_elses_card(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    sender = live.customer("100.00")
    sign_in(page, live, sender)
    page.goto(live.url("/transfer"))
    page.get_by_role("link", name="转到银行卡").click()
    card = TEST_CARDS[2]
    page.fill("#card_number", card.number)
    page.fill("#payee_name", "李四")  # not the holder: the bank says so, nothing is held
    page.fill("#amount", "30.00")
    shot(page, "card-transfer-form")
    check_page(page)
    page.get_by_role("button", name="下一步").click()
    expect(page.locator(".facts")).to_contain_text(card.number[-4:])
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="立即转账").click()
    expect(page.get_by_role("alert")).to_contain_text("姓名与卡号不符")
    expect(page.locator("#payee_name")).to_have_value("李四")
    assert live.balance(sender) == 100_00

    page.fill("#payee_name", card.holder_name)
    page.get_by_role("button", name="下一步").click()
    shot(page, "card-transfer-confirm")
    check_page(page)
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="立即转账").click()
    expect(page.get_by_role("heading", name="转账成功")).to_be_visible()
    shot(page, "card-transfer-done")
    check_page(page)
    assert live.balance(sender) == 70_00  # within the free quota: no fee
