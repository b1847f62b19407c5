"""Bills in the web wallet: the biller directory by category, an account looked up (amount
due, the holder's masked name), paid with the PIN, its receipt (page and PDF); a phone
top-up; one payment however often the form is posted; another user's payment not found;
and the refusals (unknown account, a number of the wrong shape, the balance, a wrong PIN)
with nothing changed. tests/bills holds the use case's own rules; the sandbox biller's
test accounts (docs/bills.md) choose what the biller answers: State Grid Beijing
``10000000xx`` owes an amount derived from the number, ``1000000404`` is unknown."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from ewallet.models.tables import bill_payments
from tests.conftest import BACKENDS
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.web import LiveWallet, check_page, live_wallet_for, sign_in

ELECTRICITY = "State Grid Beijing Electric Power"


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveWallet]:
    """The served wallet, giving up on a silent biller after 1.5 s (not 8 s)."""
    folder = tmp_path_factory.mktemp(f"web-bills-{request.param}")
    yield from live_wallet_for(str(request.param), request, folder, biller_timeout_seconds=1.5)


def payments_of(live: LiveWallet, user: TestUser) -> int:
    async def work() -> int:
        async with live.shop.engine.connect() as conn:
            found = await conn.scalar(
                select(func.count())
                .select_from(bill_payments)
                .where(bill_payments.c.user_id == user.id)
            )
            return int(found or 0)

    return live.run(work())


def money_of(live: LiveWallet, user: TestUser) -> dict[str, Any]:
    return {"balance": live.balance(user), "bill_payments": payments_of(live, user)}


def look_up(page: Page, live: LiveWallet, account_no: str, biller_id: str = "sgcc_bj") -> None:
    page.goto(live.url(f"/bills/{biller_id}"))
    page.fill("#account_no", account_no)
    page.click(f"form[action='/bills/{biller_id}/lookup'] button[type=submit]")


def pay(page: Page, pin: str = PIN) -> None:
    page.fill("#payment_password", pin)
    page.click("form[action$='/pay'] button[type=submit]")


def fen(text: str) -> int:
    return int(Decimal(text) * 100)


def test_pay_an_electricity_bill_and_get_its_receipt(page: Page, live: LiveWallet) -> None:
    user = live.customer("600.00")
    sign_in(page, live, user)
    page.goto(live.url("/bills"))
    for category in ("Electricity", "Water", "Gas", "Mobile top-up", "Broadband"):
        expect(page.get_by_role("heading", name=category)).to_be_visible()
    check_page(page)

    page.get_by_role("link", name=ELECTRICITY).click()
    expect(page.get_by_role("heading", name=ELECTRICITY)).to_be_visible()
    expect(page.get_by_text("the 10-digit customer number on the bill")).to_be_visible()
    check_page(page)

    page.fill("#account_no", "1000 0000 11")
    page.get_by_role("button", name="Look up the bill").click()
    facts = page.locator(".facts")
    expect(facts).to_contain_text("100***0011")
    expect(facts).to_contain_text("*")  # the holder's name, masked
    expect(facts).to_contain_text("2026-02")  # last month's bill
    due = page.locator("#amount").input_value()
    assert fen(due) >= 50_00
    check_page(page)

    pay(page)
    expect(page.get_by_role("heading", name="Bill paid")).to_be_visible()
    assert page.url.startswith(live.url("/bills/payments/bil_"))
    expect(page.locator(".facts")).to_contain_text("BR20260302")
    expect(page.locator(".outcome")).to_contain_text(f"¥{Decimal(due):,.2f}")
    check_page(page)
    assert money_of(live, user) == {"balance": 600_00 - fen(due), "bill_payments": 1}

    href = page.get_by_role("link", name="Download the receipt (PDF)").get_attribute("href")
    pdf = page.request.get(live.url(href or ""))
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")


def test_top_up_a_phone_in_chinese(browser_zh: Page, live: LiveWallet) -> None:
    page = browser_zh
    user = live.customer("100.00")
    sign_in(page, live, user)
    page.goto(live.url("/bills?category=mobile_topup"))
    expect(page.get_by_role("heading", name="话费充值")).to_be_visible()
    expect(page.get_by_role("heading", name="电费")).to_have_count(0)
    page.get_by_role("link", name="中国移动话费充值").click()
    page.fill("#account_no", "138 0000 0021")
    page.click("form[action='/bills/cmcc_topup/lookup'] button[type=submit]")
    expect(page.locator(".facts")).to_contain_text("138****0021")
    page.get_by_label("¥50", exact=True).check()
    check_page(page)
    pay(page)
    expect(page.get_by_role("heading", name="缴费成功")).to_be_visible()
    assert money_of(live, user) == {"balance": 50_00, "bill_payments": 1}


def test_posting_the_pay_form_twice_pays_once(page: Page, live: LiveWallet) -> None:
    user = live.customer("600.00")
    sign_in(page, live, user)
    look_up(page, live, "1000000031")
    due = fen(page.locator("#amount").input_value())
    page.fill("#payment_password", PIN)
    fields = page.eval_on_selector(
        "form[action$='/pay']", "f => Object.fromEntries(new FormData(f))"
    )
    first = page.request.post(live.url("/bills/sgcc_bj/pay"), form=fields, max_redirects=0)
    second = page.request.post(live.url("/bills/sgcc_bj/pay"), form=fields, max_redirects=0)
    assert first.status == second.status == 303
    assert first.headers["location"] == second.headers["location"]
    assert money_of(live, user) == {"balance": 600_00 - due, "bill_payments": 1}


def test_another_users_payment_is_not_found(page: Page, live: LiveWallet) -> None:
    owner, stranger = live.customer("600.00"), live.customer("0")
    sign_in(page, live, owner)
    look_up(page, live, "1000000041")
    pay(page)
    expect(page.get_by_role("heading", name="Bill paid")).to_be_visible()
    payment = page.url
    receipt_number = page.locator(".facts .ref").first.inner_text()

    page.context.clear_cookies()
    sign_in(page, live, stranger)
    answer = page.goto(payment)
    assert answer is not None
    assert answer.status == 404
    assert receipt_number not in page.content()
    assert "100***0041" not in page.content()
    check_page(page)
    pdf = page.request.get(payment + "/receipt.pdf")
    assert pdf.status == 404
    assert pdf.headers["content-type"].startswith("text/html")


def test_an_unknown_or_malformed_account_is_refused_with_nothing_changed(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("600.00")
    sign_in(page, live, user)
    before = (live.snapshot(user), money_of(live, user))

    look_up(page, live, "1000000404")
    expect(page.get_by_role("alert")).to_contain_text("The biller has no account with this number")
    expect(page.locator("#account_no")).to_have_value("1000000404")
    expect(page.locator("#payment_password")).to_have_count(0)
    check_page(page)

    page.fill("#account_no", "12345")
    page.get_by_role("button", name="Look up the bill").click()
    expect(page.get_by_role("alert")).to_contain_text("the 10-digit customer number on the bill")
    assert (live.snapshot(user), money_of(live, user)) == before


def test_more_than_the_balance_is_refused_with_nothing_changed(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("20.00")
    sign_in(page, live, user)
    look_up(page, live, "1000000051")
    before = (live.snapshot(user), money_of(live, user))
    pay(page)
    expect(page.get_by_role("alert")).to_contain_text("The balance is not sufficient")
    expect(page.locator(".facts")).to_contain_text("100***0051")
    expect(page.locator("#payment_password")).to_have_value("")
    check_page(page)
    assert (live.snapshot(user), money_of(live, user)) == before


def test_a_wrong_pin_pays_nothing(page: Page, live: LiveWallet) -> None:
    user = live.customer("600.00")
    sign_in(page, live, user)
    look_up(page, live, "1000000061")
    due = page.locator("#amount").input_value()
    before = money_of(live, user)
    pay(page, pin="000000")
    expect(page.get_by_role("alert")).to_contain_text("2 more wrong tries will lock it")
    expect(page.locator("#amount")).to_have_value(due)
    assert money_of(live, user) == before
    # The right PIN on the same page then pays.
    pay(page)
    expect(page.get_by_role("heading", name="Bill paid")).to_be_visible()
    assert money_of(live, user) == {"balance": 600_00 - fen(due), "bill_payments": 1}


def test_a_bill_the_biller_refuses_gives_the_money_back(page: Page, live: LiveWallet) -> None:
    user = live.customer("600.00")
    sign_in(page, live, user)
    look_up(page, live, "1000000403")  # the sandbox biller refuses payments to it for good
    pay(page)
    expect(page.get_by_role("heading", name="The biller refused the payment")).to_be_visible()
    expect(page.locator(".outcome")).to_contain_text("The money is back in your wallet.")
    expect(page.get_by_role("link", name="Download the receipt (PDF)")).to_have_count(0)
    check_page(page)
    assert money_of(live, user) == {"balance": 600_00, "bill_payments": 1}


def test_a_payment_the_biller_has_not_confirmed_is_shown_waiting(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("600.00")
    sign_in(page, live, user)
    look_up(page, live, "1000000409")  # the biller's first answer is lost
    due = fen(page.locator("#amount").input_value())
    pay(page)
    expect(page.get_by_role("heading", name="Waiting for the biller")).to_be_visible()
    expect(page.locator(".outcome")).to_contain_text("you are never charged twice")
    assert money_of(live, user) == {"balance": 600_00 - due, "bill_payments": 1}
    receipt = page.request.get(page.url + "/receipt.pdf")
    assert receipt.status == 409  # no receipt until the biller confirms
