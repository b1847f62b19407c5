"""The cashier's till (web/merchant/till.py, payments/till/): a sale with a payment code
typed and Enter (as a keyboard-wedge scanner does), a large charge that waits for the
customer's PIN and turns to paid on the open page, an expired code refused with nothing
charged, a double submit that charges once, and the last sale refunded with a manager's
approval (a wrong password refunds nothing). Chromium pages pass axe-core and are
photographed at phone size into the test's folder. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import select

from ewallet.merchants.views import NewMerchant
from ewallet.models.tables import audit_events, refunds
from tests.fixtures.console import check_console_page
from tests.fixtures.merchant_portal import (
    TOTP_STEP,
    LivePortal,
    MemberLogin,
    PortalClient,
    csrf_of,
    portal_sign_in,
)
from tests.fixtures.payment_codes import PIN, code_charges, confirm, everything, show_code
from tests.fixtures.shop import TestUser

PHONE = ViewportSize(width=390, height=844)
FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


def shoot(page: Page, name: str, tmp_path: Path) -> None:
    check_console_page(page)
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def shop_people(live: LivePortal) -> tuple[NewMerchant, dict[str, MemberLogin]]:
    merchant = live.merchant("Till Bakery")
    return merchant, {role: live.member(merchant, role) for role in ("cashier", "manager")}


def code_of(live: LivePortal, customer: TestUser) -> str:
    return live.run(show_code(live.shop, customer))


def form_key_of(html: str) -> str:
    found = FORM_KEY.search(html)
    assert found is not None, html[:400]
    return found.group(1)


def sell(till: PortalClient, amount: str, code: str) -> Any:
    page = till.client.get("/merchant/till")
    till.csrf = csrf_of(page.text)
    return till.post("/merchant/till", amount=amount, code=code, form_key=form_key_of(page.text))


def test_cashier_sale_with_a_typed_code_and_enter(
    live: LivePortal,
    page: Page,
    tmp_path: Path,
    shop_people: tuple[NewMerchant, dict[str, MemberLogin]],
) -> None:
    _, people = shop_people
    cashier = people["cashier"]
    customer = live.customer("200.00")
    page.set_viewport_size(PHONE)
    portal_sign_in(page, live, cashier)
    # The till comes first in a cashier's navigation.
    expect(page.locator("nav.portal-nav li").first).to_contain_text("Till")
    page.goto(live.url("/merchant/till"))
    shoot(page, "till-phone", tmp_path)
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type("12.50")
    page.keyboard.press("Enter")  # to the code field, nothing posted
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(code_of(live, customer))
    page.keyboard.press("Enter")  # what a scanner sends after the digits
    sale = page.locator("#till-sale")
    expect(sale).to_have_attribute("data-state", "paid")
    expect(sale).to_contain_text("¥12.50")
    masked = customer.phone[3:6] + "****" + customer.phone[-4:]
    expect(sale).to_contain_text(masked)
    expect(page.locator("#code")).to_have_value("")  # cleared for the next sale
    shoot(page, "till-paid-phone", tmp_path)
    assert live.balance(customer) == 187_50
    order_id = sale.get_attribute("data-sale")
    events = live.run(_events(live, "till.charged", order_id or ""))
    assert [(e.actor_type, e.actor_id, e.details["cashier"]) for e in events] == [
        ("merchant", cashier.id, cashier.id)
    ]


def test_without_javascript_enter_in_the_amount_asks_for_the_code(
    live: LivePortal, shop_people: tuple[NewMerchant, dict[str, MemberLogin]]
) -> None:
    _, people = shop_people
    till = PortalClient(live, people["cashier"])
    try:
        answer = sell(till, "8.00", "")
        assert answer.status_code == 200
        assert re.search(r'id="code"[^>]*autofocus', answer.text)
        assert 'value="8.00"' in answer.text
    finally:
        till.close()


def test_a_double_submit_charges_once(
    live: LivePortal, shop_people: tuple[NewMerchant, dict[str, MemberLogin]]
) -> None:
    _, people = shop_people
    customer = live.customer("100.00")
    till = PortalClient(live, people["cashier"])
    try:
        page = till.client.get("/merchant/till")
        till.csrf = csrf_of(page.text)
        code, key = code_of(live, customer), form_key_of(page.text)
        first = till.post("/merchant/till", amount="5.00", code=code, form_key=key)
        second = till.post("/merchant/till", amount="5.00", code=code, form_key=key)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert live.balance(customer) == 95_00
    finally:
        till.close()


def test_a_waiting_sale_posted_twice_is_one_charge_and_one_audit_event(
    live: LivePortal, shop_people: tuple[NewMerchant, dict[str, MemberLogin]]
) -> None:
    _, people = shop_people
    customer = live.customer("3000.00")
    till = PortalClient(live, people["cashier"])
    try:
        page = till.client.get("/merchant/till")
        till.csrf = csrf_of(page.text)
        code, key = code_of(live, customer), form_key_of(page.text)
        first = till.post("/merchant/till", amount="1200.00", code=code, form_key=key)
        second = till.post("/merchant/till", amount="1200.00", code=code, form_key=key)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        order_id = first.headers["location"].split("sale=")[1]
        panel = till.client.get(f"/merchant/till/sales/{order_id}")
        assert 'data-state="waiting"' in panel.text
        assert 'hx-trigger="every 1s"' in panel.text
        assert len(live.run(_events(live, "till.charged", order_id))) == 1
        assert live.balance(customer) == 3000_00
    finally:
        till.close()


def test_an_expired_code_is_refused_and_nothing_is_charged(
    live: LivePortal, shop_people: tuple[NewMerchant, dict[str, MemberLogin]]
) -> None:
    _, people = shop_people
    customer = live.customer("100.00")
    code = code_of(live, customer)
    live.clock.advance(timedelta(minutes=3))
    till = PortalClient(live, people["cashier"])
    before = live.run(everything(live.shop, customer))
    try:
        answer = sell(till, "10.00", code)
        assert answer.status_code == 422
        assert "payment code" in answer.text.lower()
        assert 'class="alert alert-error"' in answer.text
        assert 'value="10.00"' in answer.text  # the amount stays for the next scan
    finally:
        till.close()
    assert live.run(everything(live.shop, customer)) == before


def test_a_short_balance_is_said_in_words_and_nothing_is_charged(
    live: LivePortal, shop_people: tuple[NewMerchant, dict[str, MemberLogin]]
) -> None:
    _, people = shop_people
    customer = live.customer("5.00")
    till = PortalClient(live, people["cashier"])
    before = live.run(everything(live.shop, customer))
    try:
        answer = sell(till, "10.00", code_of(live, customer))
        assert answer.status_code == 402
        assert 'class="alert alert-error"' in answer.text
        assert "balance" in answer.text.lower()
    finally:
        till.close()
    assert live.run(everything(live.shop, customer)) == before


def test_a_large_charge_waits_for_the_pin_and_turns_paid_live(
    live: LivePortal,
    page: Page,
    tmp_path: Path,
    shop_people: tuple[NewMerchant, dict[str, MemberLogin]],
) -> None:
    _, people = shop_people
    customer = live.customer("3000.00")
    page.set_viewport_size(PHONE)
    portal_sign_in(page, live, people["cashier"])
    page.goto(live.url("/merchant/till"))
    page.fill("#amount", "1500.00")
    page.fill("#code", code_of(live, customer))
    page.press("#code", "Enter")
    sale = page.locator("#till-sale")
    expect(sale).to_have_attribute("data-state", "waiting")
    expect(sale).to_contain_text("Waiting for the customer's PIN confirmation")
    shoot(page, "till-waiting-phone", tmp_path)
    assert live.balance(customer) == 3000_00
    order_id = sale.get_attribute("data-sale") or ""
    challenge = live.run(_challenge_of(live, order_id))
    confirmed = live.run(confirm(live.shop, customer, challenge, PIN))
    assert confirmed.status_code == 201, confirmed.text
    # No reload: the panel asks again every second and turns to paid.
    expect(sale).to_have_attribute("data-state", "paid", timeout=10_000)
    expect(sale).to_contain_text("¥1,500.00")
    assert live.balance(customer) == 1500_00
    assert page.url == live.url(f"/merchant/till?sale={order_id}")


def test_the_last_sale_is_refunded_with_a_managers_approval(
    live: LivePortal,
    page: Page,
    tmp_path: Path,
    shop_people: tuple[NewMerchant, dict[str, MemberLogin]],
) -> None:
    _, people = shop_people
    cashier, manager = people["cashier"], people["manager"]
    customer = live.customer("100.00")
    page.set_viewport_size(PHONE)
    portal_sign_in(page, live, cashier)
    page.goto(live.url("/merchant/till"))
    page.fill("#amount", "30.00")
    page.fill("#code", code_of(live, customer))
    page.press("#code", "Enter")
    expect(page.locator("#till-sale")).to_have_attribute("data-state", "paid")
    order_id = page.locator("#till-sale").get_attribute("data-sale") or ""
    assert live.balance(customer) == 70_00
    page.click("text=Refund last sale")
    expect(page.locator("h1")).to_have_text("Refund last sale")
    shoot(page, "till-refund-phone", tmp_path)
    # A wrong password: refused, nothing refunded.
    live.clock.advance(TOTP_STEP)
    page.fill("#approver_email", manager.email)
    page.fill("#approver_password", "not-the-password")
    page.fill("#approver_totp", manager.code(live.clock))
    page.click("form[action$='/refund'] button[type=submit]")
    expect(page.locator(".alert-error")).to_be_visible()
    assert live.run(_refunds_of(live, order_id)) == 0
    assert live.balance(customer) == 70_00
    # The manager's own password and code: refunded, back at the till.
    live.clock.advance(TOTP_STEP)
    page.fill("#approver_email", manager.email)
    page.fill("#approver_password", manager.password)
    page.fill("#approver_totp", manager.code(live.clock))
    page.click("form[action$='/refund'] button[type=submit]")
    expect(page).to_have_url(live.url(f"/merchant/till?sale={order_id}"))
    expect(page.locator("#till-sale")).to_contain_text("Refunded: ¥30.00")
    assert live.run(_refunds_of(live, order_id)) == 1
    assert live.balance(customer) == 100_00


def test_a_manager_refunds_the_last_sale_directly(
    live: LivePortal, shop_people: tuple[NewMerchant, dict[str, MemberLogin]]
) -> None:
    _, people = shop_people
    customer = live.customer("100.00")
    till = PortalClient(live, people["manager"])
    try:
        sold = sell(till, "20.00", code_of(live, customer))
        assert sold.status_code == 303
        order_id = sold.headers["location"].split("sale=")[1]
        form = till.client.get(f"/merchant/till/sales/{order_id}/refund")
        assert "approver_email" not in form.text
        answer = till.post(
            f"/merchant/till/sales/{order_id}/refund", form_key=form_key_of(form.text)
        )
        assert answer.status_code == 303, answer.text[:500]
        assert live.balance(customer) == 100_00
    finally:
        till.close()


def test_another_merchants_sale_is_not_found(
    live: LivePortal, shop_people: tuple[NewMerchant, dict[str, MemberLogin]]
) -> None:
    _, people = shop_people
    other = live.merchant("Other Till")
    customer = live.customer("100.00")
    stranger = PortalClient(live, live.member(other, "cashier"))
    till = PortalClient(live, people["cashier"])
    try:
        sold = sell(stranger, "4.00", code_of(live, customer))
        order_id = sold.headers["location"].split("sale=")[1]
        for path in (f"/merchant/till/sales/{order_id}", f"/merchant/till?sale={order_id}"):
            assert till.client.get(path).status_code == 404
        refund = till.client.get(f"/merchant/till/sales/{order_id}/refund")
        assert refund.status_code == 404
        assert till.post(f"/merchant/till/sales/{order_id}/refund").status_code == 404
        assert live.run(_refunds_of(live, order_id)) == 0
    finally:
        till.close()
        stranger.close()


def test_a_cashier_cannot_open_the_qr_page(
    live: LivePortal, shop_people: tuple[NewMerchant, dict[str, MemberLogin]]
) -> None:
    till = PortalClient(live, shop_people[1]["cashier"])
    try:
        assert till.client.get("/merchant/qr").status_code == 403
        assert till.client.get("/merchant/qr/feed").status_code == 403
        assert "/merchant/qr" not in till.client.get("/merchant/till").text
    finally:
        till.close()


async def _events(live: LivePortal, action: str, subject_id: str) -> list[Any]:
    async with live.shop.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_events).where(
                audit_events.c.action == action, audit_events.c.subject_id == subject_id
            )
        )
        return list(rows)


async def _challenge_of(live: LivePortal, order_id: str) -> str:
    async with live.shop.engine.connect() as conn:
        found = await conn.scalar(
            select(code_charges.c.id).where(code_charges.c.order_id == order_id)
        )
    assert found is not None
    return str(found)


async def _refunds_of(live: LivePortal, order_id: str) -> int:
    async with live.shop.engine.connect() as conn:
        rows = await conn.execute(select(refunds.c.id).where(refunds.c.order_id == order_id))
        return len(list(rows))
