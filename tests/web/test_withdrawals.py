"""Withdrawing in the web wallet: amount and card, the fee shown before the payment password
(the API's preview rule), then the result; a double submit is one withdrawal; refusals (not
enough money, a wrong payment password, a limit) change nothing; another user's withdrawal
or card is never shown."""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ewallet.models.tables import withdrawals
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.cards import bind
from tests.fixtures.web import LiveWallet, check_page, sign_in

ICBC = TEST_CARDS[0]


def withdrawal_rows(live: LiveWallet, user: TestUser) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            query = select(withdrawals).where(withdrawals.c.user_id == user.id)
            return [dict(row._mapping) for row in await conn.execute(query.order_by("id"))]

    return live.run(read())


def card_holder(live: LiveWallet, funds: str, *, tier: int = 3) -> tuple[TestUser, str]:
    """A customer with ``funds`` and the ICBC test card bound (through the API)."""
    user = live.customer(funds, tier=tier)
    card = live.run(bind(live.shop, user, ICBC))
    return user, str(card["id"])


def api_preview(live: LiveWallet, user: TestUser, card_id: str, amount: str) -> dict[str, Any]:
    async def ask() -> httpx.Response:
        return await live.shop.client.post(
            "/v1/withdrawals/preview",
            json={"card_id": card_id, "amount": amount},
            headers=live.shop.auth(user),
        )

    answer = live.run(ask())
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def start(page: Page, live: LiveWallet, amount: str) -> None:
    page.goto(live.url("/withdraw"))
    page.fill("#amount", amount)
    page.get_by_role("button", name="Next: see the fee").click()


def test_the_fee_is_shown_before_the_pin_and_a_double_submit_withdraws_once(
    page: Page, live: LiveWallet
) -> None:
    user, card_id = card_holder(live, "25000.00")
    sign_in(page, live, user)
    page.goto(live.url("/withdraw"))
    expect(page.locator(".available")).to_contain_text("¥25,000.00")
    expect(page.get_by_text("You can still withdraw ¥20,000.00 free of charge.")).to_be_visible()
    check_page(page)
    page.fill("#amount", "20100.00")
    page.get_by_role("button", name="Next: see the fee").click()

    expect(page.get_by_role("heading", name="Confirm the withdrawal")).to_be_visible()
    fees = page.locator(".fee-table")
    preview = api_preview(live, user, card_id, "20100.00")
    assert preview["fee"]["amount"] == "0.10"
    expect(fees).to_contain_text("¥0.10")
    expect(fees).to_contain_text("¥20,100.10")
    expect(page.get_by_text("¥20,000.00 of this withdrawal was still free")).to_be_visible()
    check_page(page)
    assert live.balance(user) == 25_000_00  # nothing happens before the password

    page.fill("#payment_password", PIN)
    form = page.locator("form[action='/withdraw/confirm'] input[type=hidden]")
    sent = {
        form.nth(i).get_attribute("name") or "": form.nth(i).input_value()
        for i in range(form.count())
    }
    page.get_by_role("button", name="Withdraw ¥20,100.00").click()
    expect(page.get_by_role("heading", name="Withdrawal complete")).to_be_visible()
    check_page(page)
    assert live.balance(user) == 25_000_00 - 20_100_10

    again = page.request.post(
        live.url("/withdraw/confirm"), form={**sent, "payment_password": PIN}, max_redirects=0
    )
    assert again.status == 303
    assert live.url(again.headers["location"]) == page.url
    assert len(withdrawal_rows(live, user)) == 1
    assert live.balance(user) == 25_000_00 - 20_100_10


def test_not_enough_money_and_a_wrong_pin_change_nothing(page: Page, live: LiveWallet) -> None:
    user, card_id = card_holder(live, "100.00")
    sign_in(page, live, user)
    start(page, live, "150.00")
    expect(page.get_by_role("alert")).to_contain_text("Not enough money")
    expect(page.locator("#payment_password")).to_have_count(0)  # no PIN asked for

    # Had the balance dropped after the preview, the service itself refuses.
    headers = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")
    before = live.snapshot(user)
    refused = page.request.post(
        live.url("/withdraw/confirm"),
        form={
            "csrf": headers["X-CSRF-Token"],
            "form_key": f"race-{user.id}",
            "amount": "150.00",
            "card_id": card_id,
            "payment_password": PIN,
        },
    )
    assert refused.status == 402
    assert "余额不足" in refused.text()  # (the request has no Accept-Language)
    assert live.snapshot(user) == before
    assert withdrawal_rows(live, user) == []

    start(page, live, "60.00")
    page.fill("#payment_password", "135792")
    page.get_by_role("button", name="Withdraw ¥60.00").click()
    expect(page.get_by_role("alert")).to_contain_text("The payment password is wrong")
    expect(page.get_by_role("heading", name="Confirm the withdrawal")).to_be_visible()
    expect(page.locator("#payment_password")).to_have_value("")
    check_page(page)
    assert live.balance(user) == 100_00
    assert withdrawal_rows(live, user) == []


def test_a_limit_says_what_is_left_in_chinese(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    user, _ = card_holder(live, "2000.00", tier=1)  # class I: ¥1,000 a day with the PIN
    sign_in(page, live, user)
    page.goto(live.url("/withdraw"))
    page.fill("#amount", "1500.00")
    page.locator("form[action='/withdraw/confirm'] button[type=submit]").click()
    page.fill("#payment_password", PIN)
    page.locator("form[action='/withdraw/confirm'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_have_text("超出限额：今日还可提现 ¥1,000.00。")
    check_page(page)
    assert live.balance(user) == 2000_00
    assert withdrawal_rows(live, user) == []


def test_an_unclear_bank_answer_shows_processing(page: Page, live: LiveWallet) -> None:
    user, _ = card_holder(live, "100.00")
    sign_in(page, live, user)
    start(page, live, "40.52")  # the sandbox bank pays, then answers 500
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Withdraw ¥40.52").click()
    expect(page.get_by_role("heading", name="Processing")).to_be_visible()
    assert live.balance(user) == 100_00  # held, not yet posted
    (row,) = withdrawal_rows(live, user)
    assert row["status"] == "pending"


def test_another_users_withdrawal_and_card_are_not_shown(page: Page, live: LiveWallet) -> None:
    owner, card_id = card_holder(live, "100.00")
    sign_in(page, live, owner)
    start(page, live, "10.00")
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Withdraw ¥10.00").click()
    expect(page.get_by_role("heading", name="Withdrawal complete")).to_be_visible()
    withdrawal_url = page.url
    page.context.clear_cookies()

    stranger = live.customer("100.00")
    sign_in(page, live, stranger)
    answer = page.goto(withdrawal_url)
    assert answer is not None
    assert answer.status == 404
    assert "10.00" not in page.content()
    check_page(page)
    answer = page.goto(live.url(f"/withdraw/confirm?card_id={card_id}&amount=10.00"))
    assert answer is not None
    assert answer.status == 404
    assert "4562" not in page.content()
    assert "中国工商银行" not in page.content()
