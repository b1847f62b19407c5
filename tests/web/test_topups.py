"""Topping up in the web wallet: from a bound card with the payment password (a double
submit is one top-up; an unclear bank answer is shown as processing and completes by
itself), through Alipay and WeChat Pay (the sandbox pay page, then the wallet shows the
result), and the "at a bank counter" page; refusals (the bank declines, a wrong payment
password, a wrong amount) leave the balance as it was; another user's top-up is a 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from ewallet.funding.service import settle_funding_once
from ewallet.models.tables import topups
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.cards import bind
from tests.fixtures.web import LiveWallet, check_page, sign_in

ICBC = TEST_CARDS[0]


def topup_rows(live: LiveWallet, user: TestUser) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            query = select(topups).where(topups.c.user_id == user.id).order_by(topups.c.id)
            return [dict(row._mapping) for row in await conn.execute(query)]

    return live.run(read())


def card_holder(live: LiveWallet, funds: str = "0.00") -> tuple[TestUser, str]:
    """A customer with ``funds`` and the ICBC test card bound (through the API)."""
    user = live.customer(funds)
    card = live.run(bind(live.shop, user, ICBC))
    return user, str(card["id"])


def form_fields(page: Page, form: str) -> dict[str, str | float | bool]:
    """The hidden fields of ``form`` as shown (token and form key), to post it again."""
    fields = page.locator(f"{form} input[type=hidden]")
    return {
        fields.nth(i).get_attribute("name") or "": fields.nth(i).input_value()
        for i in range(fields.count())
    }


def sandbox_psps_on_the_test_server(page: Page, live: LiveWallet) -> None:
    """Send the browser's visits to the sandbox PSPs to this test's server.

    The pay URLs name the wallet's PSP public URL (``EWALLET_PSP_PUBLIC_URL``, else
    host:port), where ``make serve`` mounts the sandboxes; the test server listens on a port
    of its own, so requests for another address are sent there (a no-op when the harness
    sets the PSP public URL to the server's)."""

    def reroute(route: Route) -> None:
        parts = urlsplit(route.request.url)
        route.continue_(url=live.url(parts.path + (f"?{parts.query}" if parts.query else "")))

    page.context.route(
        lambda url: url.startswith("http") and not url.startswith(live.base_url), reroute
    )


def test_card_topup_credits_once_even_when_the_form_is_posted_twice(
    page: Page, live: LiveWallet
) -> None:
    user, card_id = card_holder(live)
    sign_in(page, live, user)
    page.goto(live.url("/topup"))
    expect(page.get_by_role("heading", name="Top up from a bank card")).to_be_visible()
    check_page(page)
    page.fill("#amount", "50.00")
    expect(page.get_by_role("radio", name="中国工商银行")).to_be_checked()
    page.fill("#payment_password", PIN)
    sent = {**form_fields(page, "form[action='/topup']"), "amount": "50.00"}
    page.get_by_role("button", name="Top up now").click()

    expect(page.get_by_role("heading", name="Top-up complete")).to_be_visible()
    expect(page.locator(".amount-big")).to_have_text("+¥50.00")
    check_page(page)
    result_url = page.url
    assert live.balance(user) == 50_00

    again = page.request.post(
        live.url("/topup"),
        form={**sent, "card_id": card_id, "payment_password": PIN},
        max_redirects=0,
    )
    assert again.status == 303
    assert live.url(again.headers["location"]) == result_url
    assert len(topup_rows(live, user)) == 1
    assert live.balance(user) == 50_00


def test_card_topup_refusals_leave_the_balance(page: Page, live: LiveWallet) -> None:
    user, _ = card_holder(live, "20.00")
    sign_in(page, live, user)
    page.goto(live.url("/topup"))
    submit = page.get_by_role("button", name="Top up now")

    page.fill("#amount", "10.53")  # the sandbox bank declines amounts ending in .53
    page.fill("#payment_password", PIN)
    submit.click()
    expect(page.get_by_role("alert")).to_contain_text("The bank declined the transaction")
    expect(page.locator("#amount")).to_have_value("10.53")
    expect(page.locator("#payment_password")).to_have_value("")
    check_page(page)
    assert live.balance(user) == 20_00

    page.fill("#amount", "10.00")
    page.fill("#payment_password", "135792")
    submit.click()
    expect(page.get_by_role("alert")).to_contain_text("The payment password is wrong")
    assert live.balance(user) == 20_00

    page.fill("#amount", "0")
    page.fill("#payment_password", PIN)
    submit.click()
    expect(page.get_by_role("alert")).to_contain_text("The amount is not valid")
    assert live.balance(user) == 20_00
    assert [row["status"] for row in topup_rows(live, user)] == ["failed"]  # the decline


def test_an_unclear_bank_answer_shows_processing_then_completes(
    page: Page, live: LiveWallet
) -> None:
    user, _ = card_holder(live)
    sign_in(page, live, user)
    page.goto(live.url("/topup"))
    page.fill("#amount", "30.52")  # the sandbox bank debits, then answers 500
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Top up now").click()
    expect(page.get_by_role("heading", name="Processing")).to_be_visible()
    expect(page.get_by_role("link", name="Refresh")).to_be_visible()
    check_page(page)
    assert live.balance(user) == 0

    live.run(settle_funding_once(live.shop.services, grace=timedelta(0)))
    # The page watches the top-up and shows the outcome by itself.
    expect(page.get_by_role("heading", name="Top-up complete")).to_be_visible(timeout=8000)
    assert live.balance(user) == 30_52


def test_alipay_topup_goes_through_the_pay_page_and_shows_the_result(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("0.00")
    sandbox_psps_on_the_test_server(page, live)
    sign_in(page, live, user)
    page.goto(live.url("/topup"))
    expect(page.get_by_text("Link a debit card first")).to_be_visible()
    page.get_by_role("link", name="Alipay").click()
    check_page(page)
    page.fill("#amount", "88.00")
    sent = {**form_fields(page, "form[action='/topup/alipay']"), "amount": "88.00"}
    page.get_by_role("button", name="Continue to Alipay").click()

    expect(page.get_by_role("heading", name="Pay with Alipay")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of this payment")).to_be_visible()
    check_page(page)
    (row,) = topup_rows(live, user)
    assert row["status"] == "awaiting_payment"
    again = page.request.post(live.url("/topup/alipay"), form=sent, max_redirects=0)
    assert again.headers["location"] == f"/topup/{row['id']}"  # the same order, not a second
    assert len(topup_rows(live, user)) == 1

    with page.expect_popup() as opened:
        page.get_by_role("link", name="Open Alipay to pay").click()
    cashier = opened.value
    cashier.get_by_role("button", name="Pay ¥88.00").click()
    expect(cashier.get_by_role("heading", name="Paid")).to_be_visible()
    cashier.close()

    expect(page.get_by_role("heading", name="Top-up complete")).to_be_visible(timeout=8000)
    assert live.balance(user) == 88_00


def test_wechat_pay_topup_shows_its_code_and_the_result(page: Page, live: LiveWallet) -> None:
    user = live.customer("0.00")
    sign_in(page, live, user)
    page.goto(live.url("/topup/wechat-pay"))
    page.fill("#amount", "12.30")
    page.get_by_role("button", name="Continue to WeChat Pay").click()
    expect(page.get_by_role("heading", name="Pay with WeChat Pay")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of this payment")).to_be_visible()
    pay_url = page.get_by_role("link", name="Open WeChat Pay to pay").get_attribute("href")
    assert pay_url is not None
    assert live.balance(user) == 0

    parts = urlsplit(pay_url)
    paid = page.request.post(live.url(parts.path))  # as the phone that scanned the code would
    assert paid.ok
    expect(page.get_by_role("heading", name="Top-up complete")).to_be_visible(timeout=8000)
    assert live.balance(user) == 12_30


def test_counter_page_says_what_to_bring_in_chinese(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/topup"))
    page.get_by_role("link", name="柜台").click()
    expect(page.get_by_role("heading", name="到银行柜台存入现金")).to_be_visible()
    expect(page.get_by_text("¥50,000.00")).to_be_visible()
    expect(page.get_by_role("link", name="95588")).to_have_attribute("href", "tel:95588")
    expect(page.locator("main form")).to_have_count(0)
    check_page(page)


def test_another_users_topup_is_not_found(page: Page, live: LiveWallet) -> None:
    owner = live.customer("0.00")
    sign_in(page, live, owner)
    page.goto(live.url("/topup/alipay"))
    page.fill("#amount", "66.00")
    page.get_by_role("button", name="Continue to Alipay").click()
    expect(page.get_by_role("heading", name="Pay with Alipay")).to_be_visible()
    topup_id = page.url.rsplit("/", 1)[1]
    page.context.clear_cookies()

    stranger = live.customer()
    sign_in(page, live, stranger)
    answer = page.goto(live.url(f"/topup/{topup_id}"))
    assert answer is not None
    assert answer.status == 404
    assert "66.00" not in page.content()
    check_page(page)
    watched = page.request.get(live.url(f"/topup/{topup_id}/status"))
    assert watched.status == 404
