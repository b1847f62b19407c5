"""The Pay tab in a browser: the payment code (barcode, digits behind a toggle, QR image) and
charges above the no-PIN limit arriving live for the payment password -- confirmed once,
refused with a wrong PIN, declined -- with the money checked each time; a charge or a
receipt of another user is a 404; no payment password, no code."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from reportlab.graphics.barcode.code128 import Code128

from ewallet.merchants.views import NewMerchant
from ewallet.web.kit.barcode import barcode_svg, symbols
from tests.fixtures.shop import TestUser
from tests.fixtures.web import PIN, LiveWallet, check_page, next_phone, sign_in

WRONG_PIN = "000000"
MONEY_TABLES = ("order", "payments", "spend_records", "ledger_transactions", "ledger_accounts")


def merchant(live: LiveWallet, name: str = "Corner Bakery") -> NewMerchant:
    return live.run(live.shop.merchant(name))


def charge(
    live: LiveWallet, till: NewMerchant, code: str, amount: str, number: str
) -> httpx.Response:
    """The merchant charges a scanned code (``POST /v1/merchant/charges``)."""
    body = {"payment_code": code, "amount": amount, "out_trade_no": number, "subject": "Groceries"}
    headers = live.shop.key(till, **{"Idempotency-Key": f"charge-{number}"})
    return live.run(live.shop.client.post("/v1/merchant/charges", json=body, headers=headers))


def merchant_order(live: LiveWallet, till: NewMerchant, order_id: str) -> dict[str, Any]:
    answer = live.run(
        live.shop.client.get(f"/v1/merchant/orders/{order_id}", headers=live.shop.key(till))
    )
    assert answer.status_code == 200, answer.text
    order: dict[str, Any] = answer.json()["order"]
    return order


def money_state(live: LiveWallet, user: TestUser, order_id: str) -> dict[str, Any]:
    """What a refused confirmation must leave as it was (a wrong PIN does count an attempt
    on the user's row: that is the point of counting)."""
    state = live.run(live.shop.state(user, order_id))
    return {name: state[name] for name in MONEY_TABLES}


def shown_code(page: Page) -> str:
    return str(page.locator("#code-digits").text_content()).replace(" ", "")


def pending_charge(live: LiveWallet, till: NewMerchant, page: Page, amount: str) -> dict[str, Any]:
    """Charge the code the page shows for more than the no-PIN day allows: step-up."""
    answer = charge(live, till, shown_code(page), amount, f"big-{next_phone()[-6:]}")
    assert answer.status_code == 401, answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"] == "step_up_required"
    return body


def test_the_code_pays_small_charges_and_a_large_one_waits_live_for_the_pin(
    page: Page, live: LiveWallet
) -> None:
    till = merchant(live)
    user = live.customer("3000.00")
    sign_in(page, live, user)
    page.goto(live.url("/pay"))
    expect(page.locator("#code svg.barcode")).to_be_visible()
    expect(page.locator("#code svg.qr")).to_be_visible()
    masked = str(page.locator("#code p.code-digits").first.text_content())
    assert masked.startswith("28")
    assert "•" in masked
    expect(page.locator("#code-digits")).to_be_hidden()
    page.get_by_text("Show the digits").click()
    expect(page.locator("#code-digits")).to_be_visible()
    check_page(page)
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    # A small charge goes through without the PIN; the page says so and shows a new code.
    first = shown_code(page)
    shown = str(page.locator("#code-digits").text_content())
    paid = charge(live, till, first, "12.00", f"small-{user.id}")
    assert paid.status_code == 201, paid.text
    expect(page.get_by_text("Paid ¥12.00 to Corner Bakery")).to_be_visible()
    expect(page.locator("#code-digits")).not_to_have_text(shown)
    assert shown_code(page) != first

    # ¥1,500 is over the ¥1,000 a day without the PIN: it waits, and appears live.
    before = live.balance(user)
    body = pending_charge(live, till, page, "1500.00")
    card = page.locator(".confirm-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Corner Bakery")
    expect(card).to_contain_text("¥1,500.00")
    assert page.evaluate("window.sameDocument") is True
    assert live.balance(user) == before
    check_page(page)

    # A wrong PIN moves nothing and says why.
    unchanged = money_state(live, user, body["order_id"])
    card.locator("input[name=payment_password]").fill(WRONG_PIN)
    card.get_by_role("button", name="Confirm and pay").click()
    expect(page.get_by_role("alert")).to_contain_text("payment password is wrong")
    assert page.url.endswith(f"/pay/confirmations/{body['challenge_id']}")
    expect(page.locator("input[name=payment_password]")).to_have_value("")
    assert money_state(live, user, body["order_id"]) == unchanged
    check_page(page)

    # The right PIN pays once, however often the form is sent.
    form = page.locator(f"form[action='/pay/confirmations/{body['challenge_id']}']")
    fields: dict[str, str | float | bool] = {
        name: str(form.locator(f"input[name={name}]").get_attribute("value"))
        for name in ("csrf", "form_key")
    }
    fields["payment_password"] = PIN
    answers = [
        page.request.post(
            live.url(f"/pay/confirmations/{body['challenge_id']}"), form=fields, max_redirects=0
        )
        for _ in range(2)
    ]
    assert [a.status for a in answers] == [303, 303]
    receipt = answers[0].headers["location"]
    assert answers[1].headers["location"] == receipt
    assert live.balance(user) == before - 1500_00
    assert merchant_order(live, till, body["order_id"])["status"] == "paid"
    page.goto(live.url(receipt))
    expect(page.get_by_role("heading", name="Payment made")).to_be_visible()
    expect(page.locator("main")).to_contain_text("¥1,500.00")
    check_page(page)


def test_a_declined_charge_pays_nothing_and_ends_its_order(page: Page, live: LiveWallet) -> None:
    till = merchant(live, "Night Market")
    user = live.customer("3000.00")
    sign_in(page, live, user)
    page.goto(live.url("/pay"))
    body = pending_charge(live, till, page, "1200.00")
    unchanged = money_state(live, user, body["order_id"])
    card = page.locator(".confirm-card")
    expect(card).to_contain_text("Night Market")
    card.get_by_role("button", name="Decline").click()
    expect(page.get_by_text("You declined the payment. Nothing was paid.")).to_be_visible()
    expect(page.locator(".confirm-card")).to_have_count(0)
    after = money_state(live, user, body["order_id"])
    assert after["order"]["status"] == "awaiting_payment"  # ended by time: reads expired
    assert {k: v for k, v in after.items() if k != "order"} == {
        k: v for k, v in unchanged.items() if k != "order"
    }
    assert merchant_order(live, till, body["order_id"])["status"] == "expired"
    # Confirming it afterwards is refused, and still nothing moves.
    page.goto(live.url(f"/pay/confirmations/{body['challenge_id']}"))
    expect(page.get_by_text("This request has ended. Nothing was paid.")).to_be_visible()
    check_page(page)
    balance = live.balance(user)
    fields: dict[str, str | float | bool] = {
        "csrf": _csrf(page),
        "form_key": "k" * 20,
        "payment_password": PIN,
    }
    refused = page.request.post(
        live.url(f"/pay/confirmations/{body['challenge_id']}"), form=fields, max_redirects=0
    )
    assert refused.status == 409
    assert live.balance(user) == balance


def _csrf(page: Page) -> str:
    """This browser's form token, read from the page's htmx headers."""
    headers = str(page.locator("body").get_attribute("hx-headers"))
    return str(json.loads(headers)["X-CSRF-Token"])


def test_another_users_charge_and_receipt_are_not_found(page: Page, live: LiveWallet) -> None:
    till = merchant(live, "Tea House")
    alice = live.customer("3000.00")
    mallory = live.customer("3000.00")
    sign_in(page, live, alice)
    page.goto(live.url("/pay"))
    body = pending_charge(live, till, page, "1100.00")
    challenge = body["challenge_id"]
    expect(page.locator(".confirm-card")).to_be_visible()
    page.locator(".confirm-card input[name=payment_password]").fill(PIN)
    page.locator(".confirm-card").get_by_role("button", name="Confirm and pay").click()
    expect(page.get_by_role("heading", name="Payment made")).to_be_visible()
    receipt = page.url

    page.context.clear_cookies()
    sign_in(page, live, mallory)
    balance = live.balance(mallory)
    for path in (f"/pay/confirmations/{challenge}", receipt.removeprefix(live.base_url)):
        answer = page.goto(live.url(path))
        assert answer is not None
        assert answer.status == 404
        expect(page.locator("main")).not_to_contain_text("Tea House")
    check_page(page)
    refused = page.request.post(
        live.url(f"/pay/confirmations/{challenge}/decline"),
        form={"csrf": _csrf(page)},
        max_redirects=0,
    )
    assert refused.status == 404
    assert live.balance(mallory) == balance


def test_without_a_payment_password_there_is_no_code(page: Page, live: LiveWallet) -> None:
    user = live.newcomer()
    sign_in(page, live, user)
    page.goto(live.url("/pay"))
    expect(page.get_by_role("alert")).to_contain_text("No payment password has been set")
    expect(page.get_by_role("link", name="Set a payment password")).to_have_attribute(
        "href", "/me/payment-password"
    )
    expect(page.locator("svg.qr")).to_have_count(0)
    check_page(page)


def test_the_pay_page_in_chinese(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    user = live.customer("10.00")
    sign_in(page, live, user)
    page.goto(live.url("/pay"))
    expect(page.get_by_role("heading", name="付款码")).to_be_visible()
    expect(page.get_by_text("查看付款码数字")).to_be_visible()
    check_page(page)


@pytest.mark.parametrize("text", ["281234567850123456", "AB-12x", "0"])
def test_the_barcode_is_code_128_as_reportlab_encodes_it(text: str) -> None:
    reference = Code128(text)
    reference.validate()  # type: ignore[no-untyped-call]
    reference.encode()  # type: ignore[no-untyped-call]
    assert symbols(text) == list(reference.encoded)
    svg = barcode_svg(text)
    assert svg.startswith('<svg class="barcode"')
    assert "style" not in svg


def test_fragments_and_the_event_stream_answer_only_their_own_clients(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("10.00")
    sign_in(page, live, user)
    for path in ("/pay/code", "/pay/live", "/pay/events"):
        opened = page.request.get(live.url(path), max_redirects=0)
        assert opened.status == 303
        assert opened.headers["location"] == "/pay"
    fragment = page.request.get(live.url("/pay/code"), headers={"HX-Request": "true"})
    assert fragment.status == 200
    assert '<svg class="barcode"' in fragment.text()
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with (
        httpx.Client(base_url=live.base_url, cookies=cookies, timeout=5) as client,
        client.stream(
            "GET", "/pay/events", params={"since": "0"}, headers={"Accept": "text/event-stream"}
        ) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-store"
        lines = stream.iter_lines()
        assert next(lines) == "retry: 1000"
        event = [next(lines) for _ in range(4)]  # a blank line, then the first event
        assert event[2] == "event: change"
        assert event[1].removeprefix("id: ") == event[3].removeprefix("data: ")
