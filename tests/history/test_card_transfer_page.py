"""The web history shows a transfer to another person's card as one (a browser, Chinese):
the row names the bank, the card's last four and the payee masked under its own type, the
"to bank cards" filter keeps it alone, and its details link to the transfer."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.accounts import PIN
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.web.conftest import browser, browser_zh, live, page_errors

__all__ = ["browser", "browser_zh", "live", "page_errors"]
LI_NA = TEST_CARDS[2]  # the sandbox bank pays this card (holder 李娜)


def test_a_card_transfer_reads_as_one_in_the_history(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    sender = live.customer("100.00")
    with httpx.Client(base_url=live.base_url) as client:
        sent = client.post(
            "/v1/card-transfers",
            json={
                "card_number": LI_NA.number,
                "payee_name": LI_NA.holder_name,
                "amount": "30.00",
                "payment_password": PIN,
            },
            headers=live.shop.auth(sender, **{"Idempotency-Key": "web-history-ct"}),
        )
    assert sent.status_code == 201, sent.text
    transfer_id = sent.json()["card_transfer"]["id"]
    named = f"{LI_NA.bank_name} ****{LI_NA.number[-4:]} 李*"

    sign_in(page, live, sender)
    page.goto(live.url("/history"))
    row = page.locator("li.entry", has_text=named)
    expect(row).to_contain_text("转账到银行卡")
    expect(row).to_contain_text("30.00")
    check_page(page)

    page.get_by_role("link", name="转账到卡").click()
    expect(page).to_have_url(live.url("/history?type=card_transfer"))
    expect(page.locator("li.entry")).to_have_count(1)
    check_page(page)
    page.locator("li.entry a").click()
    facts = page.locator(".facts")
    expect(facts).to_contain_text("转账到银行卡")
    expect(facts).to_contain_text(named)
    expect(facts).to_contain_text(transfer_id)
    check_page(page)
    page.get_by_role("link", name=transfer_id).click()
    expect(page).to_have_url(live.url(f"/card-transfers/{transfer_id}"))
