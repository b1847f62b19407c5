"""The payment code's source page (``/pay/funding``) in a browser, JavaScript off: it shows
the balance first by default, offers the user's own bound card, saves the choice with the
CSRF token (which the API then reads), refuses a post without it, and reads in Chinese."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.cards import bind
from tests.fixtures.web import LiveWallet, check_page, next_phone, sign_in
from tests.web.conftest import browser, browser_zh, live, page, page_errors

__all__ = ["browser", "browser_zh", "live", "page", "page_errors"]

ICBC = TEST_CARDS[0]
FUNDING = "/v1/me/payment-code/funding"


def test_the_source_is_shown_and_set_without_javascript(live: LiveWallet, page: Page) -> None:
    user = live.run(live.shop.customer(next_phone(), "10.00"))
    card = live.run(bind(live.shop, user, ICBC))
    sign_in(page, live, user)
    page.goto(live.url("/pay/funding"))
    check_page(page)
    expect(page.locator("input[value='balance_first']")).to_be_checked()
    choice = page.locator(f"input[value='card:{card['id']}']")
    expect(choice).not_to_be_checked()
    choice.check()
    page.click("form[action='/pay/funding'] button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/pay/funding?saved=1")
    expect(choice).to_be_checked()
    shown = live.run(live.shop.client.get(FUNDING, headers=live.shop.auth(user)))
    assert (shown.json()["source"], shown.json()["card_id"]) == ("card", card["id"])
    # Without the CSRF token nothing changes.
    forged = page.request.post(
        live.url("/pay/funding"), form={"source": "balance_first"}, max_redirects=0
    )
    assert forged.status == 403
    again = live.run(live.shop.client.get(FUNDING, headers=live.shop.auth(user)))
    assert again.json()["source"] == "card"


def test_the_page_reads_in_chinese(live: LiveWallet, browser_zh: Page) -> None:
    user = live.run(live.shop.customer(next_phone(), "10.00"))
    sign_in(browser_zh, live, user)
    browser_zh.goto(live.url("/pay/funding"))
    expect(browser_zh.locator("h1")).to_have_text("付款码扣款方式")
    expect(browser_zh.locator("main")).to_contain_text("绑定银行卡后")
