"""Paying an order in the web wallet when the balance is short: the order page offers the
balance plus a bound card for the rest (or the card for all of it), works without
JavaScript, pays once, and the card is debited once (docs/card-payments.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ewallet.models.tables import card_payments
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.cards import bind
from tests.fixtures.shop import TestUser
from tests.fixtures.web import PIN, LiveWallet, check_page, next_phone, sign_in

ICBC = TEST_CARDS[0]
SHOTS = Path("var/screenshots")


def card_rows(live: LiveWallet, user: TestUser) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            query = select(card_payments).where(card_payments.c.user_id == user.id)
            return [dict(row._mapping) for row in await conn.execute(query)]

    return live.run(read())


def test_a_short_balance_pays_the_rest_with_the_card(page: Page, live: LiveWallet) -> None:
    till = live.run(live.shop.merchant("Corner Bakery"))
    user = live.customer("30.00")
    card = live.run(bind(live.shop, user, ICBC))
    answer = live.run(live.shop.create_order(till, "100.00", out_trade_no=f"C-{next_phone()[-8:]}"))
    assert answer.status_code == 201, answer.text
    order_id = answer.json()["order"]["id"]
    sign_in(page, live, user)
    page.goto(live.url(f"/pay/order?order={order_id}"))
    main = page.locator("main")
    expect(main).to_contain_text("not enough for this order")
    rest = page.get_by_label("Balance, and the rest ¥70.00 with", exact=False)
    expect(rest).to_be_checked()
    expect(page.get_by_label("All with", exact=False)).not_to_be_checked()
    expect(main).to_contain_text(f"****{card['last_four']}")
    check_page(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "card-payment-order.png"), full_page=True)
    page.get_by_label("Payment password (6 digits)").fill(PIN)
    page.locator("form[action='/pay/order'] button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("¥100.00")
    assert "/pay/receipts/" in page.url
    (row,) = card_rows(live, user)
    assert (row["status"], row["balance_part"], row["card_part"]) == ("succeeded", 30_00, 70_00)
    assert live.run(live.shop.wallet(user)) == 0
    assert live.run(live.shop.order_row(order_id)).status == "paid"


def test_without_javascript_and_in_chinese(live: LiveWallet, browser_zh: Page) -> None:
    """The same choice posted as a plain form (no script), refused with a wrong PIN in the
    user's language: nothing debited, the order still payable."""
    till = live.run(live.shop.merchant("Corner Bakery"))
    user = live.customer("0.00")
    card = live.run(bind(live.shop, user, ICBC))
    answer = live.run(live.shop.create_order(till, "20.00", out_trade_no=f"N-{next_phone()[-8:]}"))
    order_id = answer.json()["order"]["id"]
    page = browser_zh
    sign_in(page, live, user)
    page.goto(live.url(f"/pay/order?order={order_id}"))
    expect(page.locator("main")).to_contain_text("全部用")
    page.screenshot(path=str(SHOTS / "card-payment-order-zh.png"), full_page=True)
    form = page.locator("form[action='/pay/order']")
    fields: dict[str, str | float | bool] = {
        name: str(form.locator(f"input[name={name}]").get_attribute("value"))
        for name in ("csrf", "form_key", "order_id")
    }
    refused = page.request.post(
        live.url("/pay/order"),
        form={**fields, "funding": f"card:{card['id']}", "payment_password": "000000"},
        max_redirects=0,
    )
    assert refused.status == 403
    assert "支付密码" in refused.text()
    assert card_rows(live, user) == []
    paid = page.request.post(
        live.url("/pay/order"),
        form={**fields, "funding": f"card:{card['id']}", "payment_password": PIN},
        max_redirects=0,
    )
    assert paid.status == 303, paid.text()
    (row,) = card_rows(live, user)
    assert (row["status"], row["card_part"]) == ("succeeded", 20_00)
