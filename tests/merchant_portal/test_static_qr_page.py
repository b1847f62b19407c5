"""The static QR page (web/merchant/static_qr.py): owners and managers see the merchant's and
its stores' codes, download the printable sheet, regenerate a code with their authenticator
code (a wrong code changes nothing), add a store, and watch the day's static-QR payments
arrive live -- a payment made through the wallet API appears without reloading. Another
merchant's code is 404 everywhere; a cashier is refused the page (test_till.py and the
route walk). The page passes axe-core and is photographed at desktop size. SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from ewallet.merchants.views import NewMerchant
from ewallet.models.tables import static_qr_codes
from tests.fixtures.console import check_console_page
from tests.fixtures.merchant_portal import (
    TOTP_STEP,
    LivePortal,
    MemberLogin,
    PortalClient,
    portal_sign_in,
)
from tests.fixtures.shop import PIN, TestUser
from tests.fixtures.web import PageErrors, open_page, sign_in


@pytest.fixture(scope="module")
def tea_house(live: LivePortal) -> tuple[NewMerchant, MemberLogin]:
    merchant = live.merchant("Tea House")
    return merchant, live.member(merchant, "owner")


def active_tokens(live: LivePortal, merchant_id: str) -> dict[str | None, str]:
    async def read() -> dict[str | None, str]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(
                select(static_qr_codes.c.store_id, static_qr_codes.c.token).where(
                    static_qr_codes.c.merchant_id == merchant_id,
                    static_qr_codes.c.status == "active",
                )
            )
            return {row.store_id: row.token for row in rows}

    return live.run(read())


def pay_qr(live: LivePortal, user: TestUser, token: str, amount: str) -> Any:
    return live.run(
        live.shop.client.post(
            "/v1/payments/static-qr",
            json={"token": token, "amount": amount, "payment_password": PIN},
            headers=live.shop.auth(user, **{"Idempotency-Key": f"qr-{token}-{amount}"}),
        )
    )


def test_a_payment_appears_in_the_live_feed(
    live: LivePortal, page: Page, tmp_path: Path, tea_house: tuple[NewMerchant, MemberLogin]
) -> None:
    merchant, owner = tea_house
    portal_sign_in(page, live, owner)
    page.click("nav.portal-nav >> text=QR codes")
    expect(page).to_have_url(live.url("/merchant/qr"))
    expect(page.locator(".qr-card")).to_have_count(1)
    expect(page.locator("#qr-feed")).to_contain_text("No QR payments yet today")
    # A store: its own code appears.
    page.fill("#name", "West Gate")
    page.fill("#address", "1 West Road")
    page.click("form[action='/merchant/qr/stores'] button[type=submit]")
    expect(page.locator(".qr-card")).to_have_count(2)
    expect(page.locator(".qr-card h2")).to_contain_text(["Tea House", "West Gate"])
    tokens = active_tokens(live, merchant.merchant.id)
    store_token = next(token for store, token in tokens.items() if store is not None)
    # A customer pays the store's code through the wallet API; the page was not reloaded.
    customer = live.customer("100.00")
    paid = pay_qr(live, customer, store_token, "23.40")
    assert paid.status_code == 201, paid.text
    feed = page.locator("#qr-feed li")
    expect(feed).to_have_count(1, timeout=10_000)
    expect(feed.first).to_contain_text("¥23.40")
    expect(feed.first).to_contain_text("West Gate")
    expect(feed.first).to_contain_text(customer.phone[-4:])
    check_console_page(page)
    page.screenshot(path=str(tmp_path / "qr-desktop.png"), full_page=True)


def test_a_payment_from_the_web_wallet_is_seen_live_by_the_merchant(
    live: LivePortal, page: Page, browser: Browser, tea_house: tuple[NewMerchant, MemberLogin]
) -> None:
    """Two browsers on one server: the owner watches the QR page at the desk while a customer
    scans the printed code with a phone (opens its URL), types the amount and the PIN."""
    merchant, owner = tea_house
    portal_sign_in(page, live, owner)
    page.goto(live.url("/merchant/qr"))
    before = page.locator("#qr-feed li").count()
    token = active_tokens(live, merchant.merchant.id)[None]
    customer = live.customer("100.00")
    errors = PageErrors()
    phone = open_page(browser, errors=errors)
    try:
        sign_in(phone, live, customer)
        phone.goto(live.url(f"/pay/qr/{token}"))
        expect(phone.locator("main")).to_contain_text("Tea House")
        phone.get_by_label("Amount to pay the shop (yuan)").fill("16.80")
        phone.get_by_label("Payment password (6 digits)").fill(PIN)
        phone.get_by_role("button", name="Pay", exact=True).click()
        expect(phone.locator("main")).to_contain_text("16.80")
    finally:
        phone.context.close()
    assert not errors, f"the wallet page logged errors: {errors}"
    # The merchant's page was not reloaded: the feed polled the new payment in.
    feed = page.locator("#qr-feed li")
    expect(feed).to_have_count(before + 1, timeout=10_000)
    expect(feed.first).to_contain_text("¥16.80")
    expect(feed.first).to_contain_text(customer.phone[-4:])


def test_the_sheet_downloads_and_regenerating_needs_the_code(
    live: LivePortal, tea_house: tuple[NewMerchant, MemberLogin]
) -> None:
    merchant, owner = tea_house
    browser = PortalClient(live, owner)
    try:
        browser.client.get("/merchant/qr")  # makes the codes
        old = active_tokens(live, merchant.merchant.id)[None]
        for size in ("a6", "a5"):
            sheet = browser.client.get(f"/merchant/qr/{old}.pdf?size={size}")
            assert sheet.status_code == 200
            assert sheet.headers["content-type"] == "application/pdf"
            assert sheet.content.startswith(b"%PDF")
        # A wrong authenticator code: refused, the code unchanged.
        wrong = browser.post(f"/merchant/qr/{old}/regenerate", totp_code="000000")
        assert wrong.status_code == 400  # totp_invalid
        assert active_tokens(live, merchant.merchant.id)[None] == old
        live.clock.advance(TOTP_STEP)
        done = browser.post(
            f"/merchant/qr/{old}/regenerate", totp_code=owner.code(live.clock), fixed_amount="8.80"
        )
        assert done.status_code == 303, done.text[:500]
        new = active_tokens(live, merchant.merchant.id)[None]
        assert new != old
        assert browser.client.get(f"/merchant/qr/{old}.pdf").status_code == 404
        assert done.headers["location"] == "/merchant/qr?regenerated=1"
        shown = browser.client.get(done.headers["location"]).text
        assert "¥8.80" in shown
        assert "the old one stopped working" in shown
    finally:
        browser.close()


def test_another_merchants_code_is_not_found(
    live: LivePortal, tea_house: tuple[NewMerchant, MemberLogin]
) -> None:
    merchant, _ = tea_house
    other = live.merchant("Coffee Corner")
    manager = live.member(other, "manager")
    browser = PortalClient(live, manager)
    try:
        browser.client.get("/merchant/qr")
        theirs = active_tokens(live, merchant.merchant.id)[None]
        page = browser.client.get("/merchant/qr")
        assert theirs not in page.text
        assert browser.client.get(f"/merchant/qr/{theirs}.pdf").status_code == 404
        live.clock.advance(TOTP_STEP)
        answer = browser.post(
            f"/merchant/qr/{theirs}/regenerate", totp_code=manager.code(live.clock)
        )
        assert answer.status_code == 404
        assert active_tokens(live, merchant.merchant.id)[None] == theirs
        assert "Tea House" not in browser.client.get("/merchant/qr/feed").text
    finally:
        browser.close()
