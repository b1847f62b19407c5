"""Bank cards in the web wallet: bind with the bank's texted code, list them masked, unbind
with the payment password; refusals (a bad card number, a credit card, a wrong bank code, a
wrong payment password) change nothing; another user's card is a 404 page."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ewallet.models.tables import cards
from ewallet.sandbox.bank.cards import TEST_CARDS, SandboxCard
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.cards import bank_code, bind
from tests.fixtures.web import LiveWallet, check_page, sign_in

ICBC: SandboxCard = TEST_CARDS[0]
CREDIT = next(card for card in TEST_CARDS if card.card_type == "credit")


def card_rows(live: LiveWallet, user: TestUser) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            query = select(cards).where(cards.c.user_id == user.id).order_by(cards.c.id)
            return [dict(row._mapping) for row in await conn.execute(query)]

    return live.run(read())


def bound_card(live: LiveWallet, user: TestUser, card: SandboxCard = ICBC) -> str:
    """Bind ``card`` for ``user`` through the API (as the app would); its id."""
    return str(live.run(bind(live.shop, user, card))["id"])


def fill_card(page: Page, card: SandboxCard, *, number: str | None = None) -> None:
    page.fill("#card_number", number or card.number)
    page.fill("#holder_name", card.holder_name)
    page.fill("#id_number", card.id_number)
    page.fill("#bank_phone", card.bank_phone)


def test_bind_a_card_with_the_bank_code_list_it_masked_and_unbind_it(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/cards"))
    expect(page.get_by_text("No card is linked yet")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Link a bank card").click()
    expect(page.locator("h1")).to_have_text("Link a bank card")
    fill_card(page, ICBC)
    # As the number is typed, the bank and the card type show under it.
    expect(page.locator("#card_number-hint")).to_contain_text("中国工商银行 · Debit card")
    check_page(page)
    page.get_by_role("button", name="Send me the bank's code").click()

    expect(page.locator("h1")).to_have_text("Code from your bank")
    expect(page.get_by_text("has texted a 6-digit code to")).to_be_visible()
    check_page(page)
    (pending,) = card_rows(live, user)
    assert pending["status"] == "pending_verification"
    page.fill("#code", live.run(bank_code(live.shop, ICBC)))
    page.get_by_role("button", name="Link the card").click()

    expect(page.get_by_text("Card linked.")).to_be_visible()
    assert page.url == live.url(f"/cards/{pending['id']}?bound=1")
    expect(page.locator(".plastic-number")).to_have_text("•••• •••• •••• 4562")
    check_page(page)
    assert ICBC.number not in page.content()

    page.goto(live.url("/cards"))
    item = page.locator(".bank-cards li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("中国工商银行")
    expect(item).to_contain_text("Debit card · ending in 4562")
    assert ICBC.number not in page.content()
    check_page(page)

    item.get_by_role("link").click()
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Unlink the card").click()
    expect(page.get_by_text("The card was unlinked.")).to_be_visible()
    expect(page.get_by_text("No card is linked yet")).to_be_visible()
    (row,) = card_rows(live, user)
    assert row["status"] == "unbound"


def test_a_bad_card_number_and_a_credit_card_are_refused_and_nothing_is_kept(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer()
    sign_in(page, live, user)
    before = live.snapshot(user)
    page.goto(live.url("/cards/new"))
    bad_number = ICBC.number[:-1] + str((int(ICBC.number[-1]) + 1) % 10)  # check digit off
    fill_card(page, ICBC, number=bad_number)
    expect(page.locator("#card_number-hint")).to_contain_text("does not look right")
    page.get_by_role("button", name="Send me the bank's code").click()
    expect(page.get_by_role("alert")).to_contain_text("The card number is not valid")
    expect(page.locator("#card_number")).to_have_value(bad_number)
    expect(page.locator("#holder_name")).to_have_value(ICBC.holder_name)
    check_page(page)

    fill_card(page, CREDIT)
    page.get_by_role("button", name="Send me the bank's code").click()
    expect(page.get_by_role("alert")).to_contain_text("This card is not supported")
    assert card_rows(live, user) == []
    assert live.snapshot(user) == before


def test_a_wrong_bank_code_links_nothing_in_chinese(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/cards/new"))
    fill_card(page, ICBC)
    page.locator("form[action='/cards/new'] button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("输入银行验证码")
    right = live.run(bank_code(live.shop, ICBC))
    before, rows = live.snapshot(user), card_rows(live, user)

    page.fill("#code", "000000" if right != "000000" else "111111")
    page.locator("form[action$='/verify'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("验证码错误")
    expect(page.get_by_role("alert")).to_contain_text("还可尝试 4 次")
    expect(page.locator("#code")).to_have_value("")
    check_page(page)
    assert live.snapshot(user) == before
    assert card_rows(live, user) == rows  # still waiting for the code, nothing active

    page.fill("#code", right)
    page.locator("form[action$='/verify'] button[type=submit]").click()
    expect(page.get_by_text("银行卡绑定成功")).to_be_visible()
    assert [row["status"] for row in card_rows(live, user)] == ["active"]


def test_a_wrong_payment_password_keeps_the_card(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    card_id = bound_card(live, user)
    sign_in(page, live, user)
    rows = card_rows(live, user)
    page.goto(live.url(f"/cards/{card_id}"))
    page.fill("#payment_password", "135792")
    page.get_by_role("button", name="Unlink the card").click()
    expect(page.get_by_role("alert")).to_contain_text("The payment password is wrong")
    expect(page.locator("#payment_password")).to_have_value("")
    check_page(page)
    assert card_rows(live, user) == rows
    page.goto(live.url("/cards"))
    expect(page.locator(".bank-cards li")).to_have_count(1)


def test_another_users_card_is_not_found(page: Page, live: LiveWallet) -> None:
    owner = live.customer()
    card_id = bound_card(live, owner)
    rows = card_rows(live, owner)
    stranger = live.customer()
    sign_in(page, live, stranger)
    for path in (f"/cards/{card_id}", f"/cards/{card_id}/verify"):
        answer = page.goto(live.url(path))
        assert answer is not None
        assert answer.status == 404
        expect(page.locator("h1")).to_have_text("Not done")
        assert "4562" not in page.content()
        assert "中国工商银行" not in page.content()
    check_page(page)

    page.goto(live.url("/cards"))
    tried = page.request.post(
        live.url(f"/cards/{card_id}"),
        form={"csrf": form_token(page), "payment_password": PIN},
    )
    assert tried.status == 404
    assert card_rows(live, owner) == rows


def form_token(page: Page) -> str:
    """This browser's form token, as its pages carry it (the htmx header on the body)."""
    headers = page.evaluate("document.body.getAttribute('hx-headers')")
    return str(json.loads(headers)["X-CSRF-Token"])


def test_unbinding_without_the_form_token_is_refused(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    card_id = bound_card(live, user)
    sign_in(page, live, user)
    refused = page.request.post(live.url(f"/cards/{card_id}"), form={"payment_password": PIN})
    assert refused.status == 403
    assert [row["status"] for row in card_rows(live, user)] == ["active"]
