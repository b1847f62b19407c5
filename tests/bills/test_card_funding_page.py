"""Paying a bill with a bound card in the web wallet (docs/bills.md, "Paying with a card"):
the pay page offers the balance, the balance and the card, or the card, preselects the
balance and the card when the balance is short, pays once with the card debited once, and
the payment's page says how it was funded; a declined card is the form again, in Chinese,
with nothing taken. Phone-sized Chromium, as every web test (tests/fixtures/web.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from ewallet.models.tables import bill_payments
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.conftest import BACKENDS
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.cards import bind
from tests.fixtures.web import (
    LiveWallet,
    PageErrors,
    check_page,
    launch_browser,
    live_wallet_for,
    open_page,
    sign_in,
)

ICBC = TEST_CARDS[0]
SHOTS = Path("var/screenshots")


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveWallet]:
    folder = tmp_path_factory.mktemp(f"web-bill-cards-{request.param}")
    yield from live_wallet_for(
        str(request.param), request, folder, biller_timeout_seconds=1.5, bank_timeout_seconds=4.0
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    opened = open_page(browser, errors=page_errors)
    yield opened
    opened.context.close()
    assert not page_errors, f"the page logged errors: {page_errors}"


@pytest.fixture
def browser_zh(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    opened = open_page(browser, locale="zh-CN", errors=page_errors)
    yield opened
    opened.context.close()
    assert not page_errors, f"the page logged errors: {page_errors}"


def rows_of(live: LiveWallet, user: TestUser) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            query = select(bill_payments).where(bill_payments.c.user_id == user.id)
            return [dict(row._mapping) for row in await conn.execute(query)]

    return live.run(read())


def look_up(page: Page, live: LiveWallet, account_no: str) -> None:
    page.goto(live.url("/bills/sgcc_bj"))
    page.fill("#account_no", account_no)
    page.click("form[action='/bills/sgcc_bj/lookup'] button[type=submit]")


def test_a_short_balance_pays_the_rest_of_the_bill_with_the_card(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("30.00")
    card = live.run(bind(live.shop, user, ICBC))
    sign_in(page, live, user)
    look_up(page, live, "1000000041")
    both = page.get_by_label("Balance first, then", exact=False)
    expect(both).to_be_checked()
    expect(page.get_by_label("Wallet balance (¥30.00 available)")).not_to_be_checked()
    expect(page.get_by_label("All with", exact=False)).not_to_be_checked()
    expect(page.locator("main")).to_contain_text(f"****{card['last_four']}")
    page.fill("#amount", "100.00")
    check_page(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "bill-card-payment.png"), full_page=True)
    page.fill("#payment_password", PIN)
    page.click("form[action$='/pay'] button[type=submit]")
    expect(page.get_by_role("heading", name="Bill paid")).to_be_visible()
    facts = page.locator(".facts")
    expect(facts).to_contain_text("¥70.00")  # with the bank card
    expect(facts).to_contain_text("¥30.00")  # from the balance
    check_page(page)
    page.screenshot(path=str(SHOTS / "bill-card-payment-paid.png"), full_page=True)
    (row,) = rows_of(live, user)
    assert (row["status"], row["card_part"], row["card_status"]) == ("succeeded", 70_00, "debited")
    assert live.balance(user) == 0


def test_a_declined_card_shows_the_form_again_in_chinese(
    browser_zh: Page, live: LiveWallet
) -> None:
    page = browser_zh
    user = live.customer("0.00")
    live.run(bind(live.shop, user, ICBC))
    sign_in(page, live, user)
    look_up(page, live, "1000000051")
    expect(page.locator("main")).to_contain_text("全部用")
    page.fill("#amount", "20.53")  # the sandbox bank declines a debit ending in .53
    page.fill("#payment_password", PIN)
    page.click("form[action$='/pay'] button[type=submit]")
    expect(page.locator(".alert-error")).to_be_visible()
    page.screenshot(path=str(SHOTS / "bill-card-declined-zh.png"), full_page=True)
    assert "Bank" not in (page.locator(".alert-error").text_content() or "")
    (row,) = rows_of(live, user)
    assert (row["status"], row["card_status"]) == ("rejected", "declined")
    assert live.balance(user) == 0
