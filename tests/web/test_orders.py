"""Paying a merchant's order from its checkout link in the web wallet: paste the link (or come
from the hosted checkout page, without signing in again), see the order, pay with the
payment password, get the receipt; one payment however often the form is sent; and the
refusals -- a merchant that does not take the wallet, an order paid or expired, a short
balance, a wrong payment password -- each with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect

from ewallet.merchants.views import NewMerchant
from tests.fixtures.shop import TestUser
from tests.fixtures.web import PIN, LiveWallet, check_page, next_phone, sign_in

WRONG_PIN = "000000"


def new_order(
    live: LiveWallet, till: NewMerchant, amount: str = "12.30", **fields: Any
) -> tuple[str, str]:
    """An order made through the merchant API: (order id, checkout URL)."""
    number = f"W-{next_phone()[-8:]}"
    answer = live.run(
        live.shop.create_order(
            till, amount, out_trade_no=number, subject="Two croissants", **fields
        )
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return str(body["order"]["id"]), str(body["checkout_url"])


def state(live: LiveWallet, user: TestUser, order_id: str) -> dict[str, Any]:
    return live.run(live.shop.state(user, order_id))


def money(state: dict[str, Any]) -> dict[str, Any]:
    """The money part of a state: a wrong PIN counts an attempt on the user's row, no more."""
    return {k: v for k, v in state.items() if k not in ("user", "audit", "outbox")}


def show_order(page: Page, live: LiveWallet, link: str) -> None:
    page.goto(live.url("/pay/order"))
    page.get_by_label("Checkout link").fill(link)
    page.get_by_role("button", name="Show the order").click()


def pay(page: Page, pin: str = PIN) -> None:
    page.get_by_label("Payment password (6 digits)").fill(pin)
    page.locator("form[action='/pay/order'] button[type=submit]").click()


def test_paste_a_checkout_link_and_pay_once(page: Page, live: LiveWallet) -> None:
    till = live.run(live.shop.merchant("Corner Bakery"))
    user = live.customer("100.00")
    order_id, link = new_order(live, till, "12.30")
    sign_in(page, live, user)
    page.goto(live.url("/pay/order"))
    check_page(page)
    show_order(page, live, link)
    main = page.locator("main")
    expect(main).to_contain_text("Corner Bakery")
    expect(main).to_contain_text("Two croissants")
    expect(main).to_contain_text("¥12.30")
    check_page(page)

    # The same form sent twice (a double tap, a re-post) pays once.
    form = page.locator("form[action='/pay/order']")
    fields: dict[str, str | float | bool] = {
        name: str(form.locator(f"input[name={name}]").get_attribute("value"))
        for name in ("csrf", "form_key", "order_id")
    }
    fields["payment_password"] = PIN
    answers = [
        page.request.post(live.url("/pay/order"), form=fields, max_redirects=0) for _ in range(2)
    ]
    assert [a.status for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert live.balance(user) == 100_00 - 12_30
    assert state(live, user, order_id)["payments"] >= 1
    page.goto(live.url(answers[0].headers["location"]))
    expect(page.get_by_role("heading", name="Payment made")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Corner Bakery")
    check_page(page)

    # Opening the link again says it is paid, with the receipt.
    show_order(page, live, link)
    expect(page.get_by_text("You have paid this order.")).to_be_visible()
    page.get_by_role("link", name="See the receipt").click()
    expect(page.get_by_role("heading", name="Payment made")).to_be_visible()


def test_the_checkout_page_sends_a_wallet_user_here_without_signing_in_again(
    page: Page, live: LiveWallet
) -> None:
    till = live.run(live.shop.merchant("Tea House"))
    user = live.customer("50.00")
    order_id, link = new_order(live, till, "8.00")
    sign_in(page, live, user)
    page.goto(link)
    page.get_by_role("link", name="Signed in to the web wallet?").click()
    assert page.url.endswith(f"/pay/order?order={order_id}")
    expect(page.locator("main")).to_contain_text("Tea House")
    pay(page)
    expect(page.get_by_role("heading", name="Payment made")).to_be_visible()
    assert live.balance(user) == 50_00 - 8_00


def test_a_signed_out_browser_signs_in_and_comes_back_to_the_order(
    page: Page, live: LiveWallet
) -> None:
    till = live.run(live.shop.merchant("Noodle Bar"))
    user = live.customer("50.00")
    order_id, _ = new_order(live, till, "9.00")
    page.goto(live.url(f"/pay/order?order={order_id}"))
    assert "/signin?next=" in page.url
    page.fill("#phone", user.phone)
    page.fill("#password", "correct horse battery")
    page.click("form[action='/signin'] button[type=submit]")
    expect(page.locator("main")).to_contain_text("Noodle Bar")
    assert page.url.endswith(f"/pay/order?order={order_id}")


def test_a_merchant_that_does_not_take_the_wallet_is_refused_before_the_pin(
    page: Page, live: LiveWallet
) -> None:
    cash_only = live.run(live.shop.merchant("Cash Only", accepts_wallet=False))
    user = live.customer("100.00")
    order_id, link = new_order(live, cash_only, "5.00")
    sign_in(page, live, user)
    before = state(live, user, order_id)
    show_order(page, live, link)
    expect(page.get_by_role("alert")).to_contain_text("This merchant cannot be paid")
    expect(page.get_by_label("Payment password (6 digits)")).to_have_count(0)
    check_page(page)
    # A form posted anyway is refused the same way, before the PIN is looked at.
    csrf = str(page.locator("body").get_attribute("hx-headers")).split('"')[3]
    refused = page.request.post(
        live.url("/pay/order"),
        form={"csrf": csrf, "form_key": "f" * 24, "order_id": order_id, "payment_password": PIN},
        max_redirects=0,
    )
    assert refused.status == 422
    assert state(live, user, order_id) == before


def test_a_paid_or_expired_order_cannot_be_paid(page: Page, live: LiveWallet) -> None:
    till = live.run(live.shop.merchant("Flower Stall"))
    someone = live.customer("100.00")
    user = live.customer("100.00")
    paid_id, paid_link = new_order(live, till, "6.00")
    assert live.run(live.shop.pay(someone, paid_id)).status_code == 201
    sign_in(page, live, user)
    before = state(live, user, paid_id)
    show_order(page, live, paid_link)
    expect(page.get_by_role("alert")).to_contain_text("This order cannot be paid")
    expect(page.get_by_label("Payment password (6 digits)")).to_have_count(0)
    assert state(live, user, paid_id) == before

    # Shown while payable, expired before the PIN is sent: refused, nothing moved.
    late_id, late_link = new_order(live, till, "7.00", expires_in=60)
    show_order(page, live, late_link)
    expect(page.get_by_label("Payment password (6 digits)")).to_be_visible()
    before = state(live, user, late_id)
    live.clock.advance(timedelta(seconds=61))
    pay(page)
    expect(page.get_by_role("alert")).to_contain_text("This order cannot be paid")
    assert money(state(live, user, late_id)) == money(before)
    assert live.balance(user) == 100_00


def test_a_short_balance_or_a_wrong_pin_pays_nothing(page: Page, live: LiveWallet) -> None:
    till = live.run(live.shop.merchant("Book Shop"))
    user = live.customer("5.00")
    order_id, link = new_order(live, till, "12.30")
    sign_in(page, live, user)
    show_order(page, live, link)
    before = state(live, user, order_id)
    pay(page)
    expect(page.get_by_role("alert")).to_contain_text("The balance is not sufficient")
    expect(page.get_by_label("Payment password (6 digits)")).to_have_value("")
    check_page(page)
    assert money(state(live, user, order_id)) == money(before)

    pay(page, WRONG_PIN)
    expect(page.get_by_role("alert")).to_contain_text("The payment password is wrong")
    assert money(state(live, user, order_id)) == money(before)
    assert live.balance(user) == 5_00


def test_a_link_that_names_no_order_is_explained(page: Page, live: LiveWallet) -> None:
    user = live.customer("5.00")
    sign_in(page, live, user)
    for text in ("https://shop.example/cart", "ord_00000000000000000000000000"):
        show_order(page, live, text)
        expect(page.get_by_role("alert")).to_contain_text("This link does not lead to an order")
        expect(page.get_by_label("Checkout link")).to_have_value(text)
    check_page(page)


def test_another_users_receipt_is_not_found(page: Page, live: LiveWallet) -> None:
    till = live.run(live.shop.merchant("Key Cutter"))
    alice = live.customer("50.00")
    mallory = live.customer("50.00")
    order_id, _ = new_order(live, till, "3.00")
    answer = live.run(live.shop.pay(alice, order_id))
    payment_id = answer.json()["payment"]["id"]
    sign_in(page, live, mallory)
    shown = page.goto(live.url(f"/pay/receipts/{payment_id}"))
    assert shown is not None
    assert shown.status == 404
    expect(page.locator("main")).not_to_contain_text("Key Cutter")
    check_page(page)
