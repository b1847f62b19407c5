"""The web wallet's "to a bank card" form refuses the customer's own bound card in their
language (a browser, Chinese), keeps what was typed and moves nothing."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.fixtures.cards import bind
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.fixtures.withdrawals import ICBC
from tests.web.conftest import browser, browser_zh, live, page_errors

__all__ = ["browser", "browser_zh", "live", "page_errors"]


def test_the_own_card_is_refused_in_chinese(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    user = live.customer("100.00")
    live.run(bind(live.shop, user, ICBC))
    sign_in(page, live, user)
    page.goto(live.url("/transfer/card"))
    page.fill("#card_number", ICBC.number)
    page.fill("#payee_name", ICBC.holder_name)
    page.fill("#amount", "10.00")
    page.get_by_role("button", name="下一步").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("这是您自己绑定的银行卡")
    expect(alert).to_contain_text("提现")
    expect(page.locator("#card_number")).to_have_value(ICBC.number)
    check_page(page)
    assert live.balance(user) == 100_00
