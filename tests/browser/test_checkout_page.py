"""The hosted checkout page in a real browser: what a customer who scans a merchant's QR code
sees and does -- the order, sign-in (with the SMS step-up on a new browser), the payment
password, the result -- with the cookies, redirects, form token and Content-Security-Policy
all handled by Chromium rather than by a test client.

SQLite only: the page and the payment service are backend-neutral, and the service itself is
tested on both backends in tests/payments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from ewallet.kit import i18n
from ewallet.merchants.views import NewMerchant
from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import LOGIN_PASSWORD, outbox
from tests.fixtures.shop import PIN, Shop, TestUser, ledger_transactions, payments

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
WRONG_PIN: Final = "000000"


async def sms_sent(shop: Shop, phone: str, purpose: CodePurpose) -> str:
    """The latest code texted to ``phone`` for ``purpose``, read from the dev outbox table
    (the embedded worker is off, so the ``sms.send`` event is still there)."""
    async with shop.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.payload).where(outbox.c.topic == "sms.send").order_by(outbox.c.id)
        )
        codes = [
            p["code"] for (p,) in rows if p.get("to") == phone and p.get("purpose") == purpose.value
        ]
    assert codes, f"no {purpose.value} SMS was sent to {phone}"
    return str(codes[-1])


async def open_order(shop: Shop, merchant: NewMerchant, amount: str) -> tuple[str, str]:
    """An order made through the merchant API; returns (order id, checkout_url)."""
    response = await shop.create_order(merchant, amount, subject="Two croissants")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["checkout_url"].startswith(str(shop.client.base_url))
    return str(body["order"]["id"]), str(body["checkout_url"])


async def sign_in(page: Page, shop: Shop, user: TestUser) -> bool:
    """Sign in on the page; completes the SMS step-up if the page asks. True if it did."""
    await page.fill("#phone", user.phone)
    await page.fill("#password", LOGIN_PASSWORD)
    await page.click("button[type=submit]")
    pin_or_code = page.locator("#pin, #code")
    await expect(pin_or_code).to_be_visible()
    if await page.locator("#code").count() == 0:
        return False
    await expect(page.get_by_text("This is a new browser")).to_be_visible()
    await page.fill("#code", await sms_sent(shop, user.phone, CodePurpose.STEP_UP))
    await page.click("button[type=submit]")
    await expect(page.locator("#pin")).to_be_visible()
    return True


async def new_page(browser: Browser, console_errors: list[str]) -> Page:
    """A page in a fresh English-speaking context; console errors (such as a
    Content-Security-Policy refusal) are collected into ``console_errors``."""
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    return page


async def test_scan_sign_in_with_step_up_and_pay(
    browser: Browser, live_shop: Shop, tmp_path: Path
) -> None:
    shop = live_shop
    merchant = await shop.merchant("Corner Bakery")
    user = await shop.customer("+8613900000701", "50.00")
    # The customer's phone app is the account's trusted device, so this browser is new.
    app_sign_in = await shop.client.post(
        "/v1/sessions",
        json={"phone": user.phone, "login_password": LOGIN_PASSWORD, "device_id": "phone-app"},
    )
    assert app_sign_in.status_code == 201, app_sign_in.text
    order_id, checkout_url = await open_order(shop, merchant, "12.30")

    console_errors: list[str] = []
    page = await new_page(browser, console_errors)
    response = await page.goto(checkout_url)
    assert response is not None
    assert response.status == 200
    await expect(page.locator("h1")).to_have_text("Corner Bakery")
    await expect(page.locator(".subject")).to_have_text("Two croissants")
    await expect(page.locator(".amount")).to_have_text("¥12.30")
    await expect(page).to_have_title("Checkout · Corner Bakery")
    # The page's own stylesheet passes the CSP (its nonce matches); nothing was refused.
    await expect(page.locator(".amount")).to_have_css("font-weight", "600")

    assert await sign_in(page, shop, user) is True
    await expect(page.locator("button[type=submit]")).to_have_text("Pay ¥12.30")
    await page.fill("#pin", PIN)
    await page.click("button[type=submit]")

    await expect(page.locator(".status.ok")).to_have_text("Payment made")
    await expect(page.get_by_text("Payment number pay_")).to_be_visible()
    shot = tmp_path / "checkout-paid.png"
    await page.screenshot(path=str(shot), full_page=True)
    picture = shot.read_bytes()
    assert picture.startswith(PNG_SIGNATURE)
    assert len(picture) > 1000
    assert console_errors == []

    assert (await shop.order_row(order_id)).status == "paid"
    assert await shop.count(payments) == 1
    assert await shop.wallet(user) == 50_00 - 12_30
    # Coming back to the page shows the payment; there is nothing left to submit twice.
    await page.goto(checkout_url)
    await expect(page.locator(".status.ok")).to_have_text("Payment made")
    assert await page.locator("#pin").count() == 0
    assert await shop.count(payments) == 1
    assert await shop.wallet(user) == 50_00 - 12_30


async def test_a_wrong_payment_password_shows_an_error_and_pays_nothing(
    browser: Browser, live_shop: Shop
) -> None:
    shop = live_shop
    merchant = await shop.merchant("Corner Bakery")
    user = await shop.customer("+8613900000702", "50.00")
    order_id, checkout_url = await open_order(shop, merchant, "12.30")

    page = await new_page(browser, [])
    await page.goto(checkout_url)
    await sign_in(page, shop, user)  # the account's first device: trusted, no step-up
    transactions = await shop.count(ledger_transactions)
    await page.fill("#pin", WRONG_PIN)
    await page.click("button[type=submit]")

    error = page.get_by_role("alert")
    await expect(error).to_contain_text(i18n.title("payment_password_invalid", "en"))
    await expect(page.locator("#pin")).to_be_visible()  # the form is back for another try
    assert await shop.count(payments) == 0
    assert (await shop.order_row(order_id)).status == "awaiting_payment"
    assert await shop.wallet(user) == 50_00
    assert await shop.count(ledger_transactions) == transactions
