"""A static QR payment risk control sends to review waits like an order's payment
(docs/risk-review.md, "Merchant payments"): 202 ``under_review`` from ``POST
/v1/payments/static-qr``, its order ``under_review`` with nothing posted; approved, it
completes once through the review queue (channel ``static_qr``); the web wallet's QR page
then shows the held state, not an error (a browser test). SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.ledger.verify import verify_ledger
from ewallet.models.operations import StaffRole
from ewallet.models.risk import RuleAction
from ewallet.models.tables import held_payments, orders, payments, risk_reviews
from ewallet.reviews.service import reject_review
from ewallet.risk.rules import service as rules
from ewallet.staff.principal import StaffPrincipal
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop, clock, shop
from tests.fixtures.web import PIN, LiveWallet, check_page, sign_in
from tests.risk.engine.helpers import install, rule
from tests.static_qr.conftest import code_of, pay_qr
from tests.web.conftest import browser, live, page, page_errors
from tests.web.test_orders import new_order

from .helpers import BASE, NOTE, only_review, staff_headers

__all__ = ["browser", "clock", "live", "page", "page_errors", "shop"]

STAFF = Actor("staff", "stf_test")


async def test_a_reviewed_static_qr_payment_waits_then_completes_once(shop: Shop) -> None:
    merchant = await shop.merchant(webhook_url="https://shop.example.com/hooks")
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900000601", "500.00")
    await install(shop, rule("look", "amount >= 100", RuleAction.REVIEW, events=("static_qr",)))
    response = await pay_qr(shop, user, token, "150.00", key="qr-held")
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["code"], body["payment"]["status"]) == ("under_review", "under_review")
    payment_id = body["payment"]["id"]
    assert await shop.wallet(user) == 500_00  # posted untouched: the amount is on a hold
    assert await shop.merchant_balance(merchant) == 0
    assert await shop.count(payments) == 0
    async with shop.engine.connect() as conn:
        order = (await conn.execute(select(orders))).one()
        row = (await conn.execute(select(held_payments))).one()
    assert (order.status, order.payment_id) == ("under_review", payment_id)
    assert (row.channel, row.auth, row.state) == ("static_qr", "pin", "under_review")
    review = await only_review(shop)
    assert (review.channel, review.subject_id) == ("static_qr", payment_id)
    again = await pay_qr(shop, user, token, "150.00", key="qr-held")
    assert (again.status_code, again.json()["payment"]["id"]) == (202, payment_id)
    stranger = await shop.customer("+8613900000602", "0")
    other = await shop.client.get(f"/v1/payments/{payment_id}", headers=shop.auth(stranger))
    assert_problem(other, 404, "not_found")

    officer = await staff_headers(shop, StaffRole.RISK_OFFICER)
    path = f"{BASE}/{review.id}/approve"
    approved = await shop.client.post(path, json={"note": NOTE}, headers=officer)
    assert approved.status_code == 200, approved.text
    assert await shop.wallet(user) == 500_00 - 150_00
    fee = 57  # 0.38 % of 150.00
    assert await shop.merchant_balance(merchant) == 150_00 - fee
    async with shop.engine.connect() as conn:
        [paid] = (await conn.execute(select(payments))).all()
        order = (await conn.execute(select(orders))).one()
    assert (paid.id, paid.fee, order.status) == (payment_id, fee, "paid")
    twice = await shop.client.post(path, json={"note": NOTE}, headers=officer)
    assert_problem(twice, 409, "conflict")
    assert await shop.merchant_balance(merchant) == 150_00 - fee
    assert (await verify_ledger(shop.engine)).clean


async def _review_payments_from_ten_yuan(live: LiveWallet) -> None:
    services = live.shop.services
    draft = await rules.create_draft(services, STAFF, from_version=None, note="test")
    for old in draft.rules:
        await rules.delete_rule(services, STAFF, version=draft.version, name=old.name)
    look = rule("look", "amount >= 10", RuleAction.REVIEW, events=("payment", "static_qr"))
    await rules.save_rule(services, STAFF, version=draft.version, rule=look)
    await rules.activate_rule_set(services, STAFF, version=draft.version)


async def _reject_the_review(live: LiveWallet) -> None:
    async with live.shop.engine.connect() as conn:
        review_id = (await conn.execute(select(risk_reviews.c.id))).scalar_one()
    officer = StaffPrincipal(
        staff_id="stf_officer",
        session_id="ssn_officer",
        role=StaffRole.RISK_OFFICER,
        must_change_password=False,
        session_expires_at=live.clock.now(),
    )
    await reject_review(live.shop.services, officer, review_id=review_id, note="mule pattern")


def _held_count(live: LiveWallet) -> Any:
    async def count() -> int:
        return await live.shop.count(held_payments)

    return live.run(count())


def test_the_wallet_order_page_says_under_review_with_the_expected_time(
    page: Page, live: LiveWallet
) -> None:
    till = live.run(live.shop.merchant("Corner Bakery"))
    user = live.customer("100.00")
    live.run(_review_payments_from_ten_yuan(live))
    order_id, _link = new_order(live, till, "12.30")
    sign_in(page, live, user)
    page.goto(live.url(f"/pay/order?order={order_id}"))
    page.get_by_label("Payment password (6 digits)").fill(PIN)
    page.locator("form[action='/pay/order'] button[type=submit]").click()
    expect(page.get_by_role("heading", name="Payment under review")).to_be_visible()
    expect(page.locator(".held-payment")).to_contain_text("expected by")
    expect(page.get_by_role("heading", name="Payment made")).to_have_count(0)
    check_page(page)
    assert live.balance(user) == 100_00  # held, not moved
    assert _held_count(live) == 1

    live.run(_reject_the_review(live))
    page.reload()
    expect(page.get_by_role("heading", name="Payment not approved")).to_be_visible()
    expect(page.locator(".held-payment")).to_contain_text("the money is back in your wallet")
    check_page(page)
    assert live.balance(user) == 100_00
