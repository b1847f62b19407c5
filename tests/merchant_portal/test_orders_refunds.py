"""Orders and refunds in the merchant portal (SQLite and PostgreSQL).

The use cases of :mod:`ewallet.payments.portal_refunds`: an owner's or manager's refund
(the authenticator's code above ``merchant_refund_totp_above_minor``), a cashier's refund
with an owner's or manager's approval typed at the till, and every refusal leaving the
money, the order and the refunds as they were. Then the pages over HTTP (search, another
merchant's order, the refund form) and in Chromium with axe-core, photographed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from ewallet.identity.errors import InvalidCredentialsError, TotpInvalidError
from ewallet.kit.errors import ForbiddenError, NotFoundError
from ewallet.kit.money import Money
from ewallet.merchants.people import service as people
from ewallet.merchants.people.views import PortalUser
from ewallet.merchants.views import NewMerchant
from ewallet.models.tables import audit_events, merchant_users, refunds
from ewallet.payments.portal_refunds.service import refund_as_member, refund_with_approval
from tests.fixtures.accounts import TestUser
from tests.fixtures.console import check_console_page
from tests.fixtures.merchant_portal import (
    TOTP_STEP,
    LivePortal,
    MemberLogin,
    PortalClient,
    portal_sign_in,
)
from tests.fixtures.web import PIN

THRESHOLD = 500_00  # the default merchant_refund_totp_above_minor


class Shop:
    """One merchant with its three people and a customer, shared by the module's tests."""

    def __init__(self, live: LivePortal, name: str) -> None:
        self.live = live
        self.merchant: NewMerchant = live.merchant(name)
        self.owner = live.member(self.merchant, "owner")
        self.manager = live.member(self.merchant, "manager")
        self.cashier = live.member(self.merchant, "cashier")
        self.customer: TestUser = live.customer("5000.00")
        self._numbers = iter(range(1, 100_000))

    def paid_order(self, amount: str) -> str:
        number = f"{self.merchant.merchant.id[-6:]}-{next(self._numbers)}"

        async def trade() -> str:
            order_id = await self.live.shop.order(self.merchant, amount, out_trade_no=number)
            paid = await self.live.shop.pay(self.customer, order_id, pin=PIN)
            assert paid.status_code in (200, 201), paid.text
            return order_id

        return self.live.run(trade())

    def state(self, order_id: str) -> dict[str, Any]:
        """The money, the order and the refunds; not the audit log, where a refused try
        is recorded on purpose (the tests check those events by name)."""
        found = self.live.run(self.live.shop.state(self.customer, order_id))
        found.pop("audit", None)
        return found


@pytest.fixture(scope="module")
def bakery(live: LivePortal) -> Shop:
    return Shop(live, "Refund Bakery")


@pytest.fixture(scope="module")
def rival(live: LivePortal) -> Shop:
    return Shop(live, "Rival Noodles")


def signed_in(live: LivePortal, login: MemberLogin) -> PortalUser:
    """A real portal session of ``login`` (each sign-in spends a fresh code)."""
    live.clock.advance(TOTP_STEP)
    services = live.shop.services

    async def open_session() -> PortalUser:
        session = await people.sign_in(
            services,
            email=login.email,
            password=login.password,
            totp_code=login.code(live.clock),
            ip="127.0.0.1",
        )
        return await people.portal_session(services, session_id=session.session_id, ip=None)

    return live.run(open_session())


def fresh_code(live: LivePortal, login: MemberLogin) -> str:
    live.clock.advance(TOTP_STEP)
    return login.code(live.clock)


def failures(live: LivePortal, login: MemberLogin) -> int:
    async def read() -> int:
        async with live.shop.engine.connect() as conn:
            found = await conn.execute(
                select(merchant_users.c.failures).where(merchant_users.c.id == login.id)
            )
            return int(found.scalar_one())

    return live.run(read())


def events(live: LivePortal, action: str, subject_id: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(
                select(audit_events).where(
                    audit_events.c.action == action, audit_events.c.subject_id == subject_id
                )
            )
            return [dict(row._mapping) for row in rows]

    return live.run(read())


def refund_count(live: LivePortal, order_id: str) -> int:
    async def read() -> int:
        async with live.shop.engine.connect() as conn:
            found = await conn.execute(
                select(func.count()).select_from(refunds).where(refunds.c.order_id == order_id)
            )
            return int(found.scalar_one())

    return live.run(read())


# -- the use cases --------------------------------------------------------------------------


def test_a_manager_refunds_below_the_threshold_without_a_code(
    live: LivePortal, bakery: Shop
) -> None:
    order_id = bakery.paid_order("80.00")
    manager = signed_in(live, bakery.manager)
    made = live.run(
        refund_as_member(
            live.shop.services,
            manager,
            order_id=order_id,
            amount=Money(30_00),
            totp_code=None,
            out_refund_no="m-1",
        )
    )
    assert made.created
    assert made.refund.amount == Money(30_00)
    assert made.order.refunded == Money(30_00)
    audited = events(live, "refund.created_by_member", made.refund.id)
    assert [e["actor_id"] for e in audited] == [bakery.manager.id]
    # The same number again answers the same refund.
    again = live.run(
        refund_as_member(
            live.shop.services,
            manager,
            order_id=order_id,
            amount=Money(30_00),
            totp_code=None,
            out_refund_no="m-1",
        )
    )
    assert not again.created
    assert again.refund.id == made.refund.id
    assert refund_count(live, order_id) == 1


def test_above_the_threshold_a_wrong_code_refuses_and_changes_nothing(
    live: LivePortal, bakery: Shop
) -> None:
    order_id = bakery.paid_order("900.00")
    owner = signed_in(live, bakery.owner)
    before = bakery.state(order_id)
    for code in (None, "000000" if fresh_code(live, bakery.owner) != "000000" else "111111"):
        with pytest.raises(TotpInvalidError):
            live.run(
                refund_as_member(
                    live.shop.services,
                    owner,
                    order_id=order_id,
                    amount=Money(THRESHOLD + 1),
                    totp_code=code,
                    out_refund_no="o-big",
                )
            )
    assert bakery.state(order_id) == before
    made = live.run(
        refund_as_member(
            live.shop.services,
            owner,
            order_id=order_id,
            amount=Money(THRESHOLD + 1),
            totp_code=fresh_code(live, bakery.owner),
            out_refund_no="o-big",
        )
    )
    assert made.created
    assert failures(live, bakery.owner) == 0  # the right code clears the count


def test_a_cashier_cannot_refund_alone(live: LivePortal, bakery: Shop) -> None:
    order_id = bakery.paid_order("10.00")
    cashier = signed_in(live, bakery.cashier)
    before = bakery.state(order_id)
    with pytest.raises(ForbiddenError):
        live.run(
            refund_as_member(
                live.shop.services,
                cashier,
                order_id=order_id,
                amount=Money(1_00),
                totp_code=None,
                out_refund_no="c-1",
            )
        )
    assert bakery.state(order_id) == before


def test_another_merchants_order_is_not_found(live: LivePortal, bakery: Shop, rival: Shop) -> None:
    order_id = rival.paid_order("20.00")
    manager = signed_in(live, bakery.manager)
    before = rival.state(order_id)
    with pytest.raises(NotFoundError):
        live.run(
            refund_as_member(
                live.shop.services,
                manager,
                order_id=order_id,
                amount=Money(1_00),
                totp_code=None,
                out_refund_no="x-1",
            )
        )
    assert rival.state(order_id) == before


def _approve(live: LivePortal, cashier: PortalUser, order_id: str, **approver: str) -> Any:
    return live.run(
        refund_with_approval(
            live.shop.services,
            cashier,
            order_id=order_id,
            amount=Money(5_00),
            approver_email=approver["email"],
            approver_password=approver["password"],
            approver_totp=approver["totp"],
            out_refund_no=approver.get("number", "till-1"),
        )
    )


def test_a_cashier_refunds_with_a_managers_approval(live: LivePortal, bakery: Shop) -> None:
    order_id = bakery.paid_order("15.00")
    cashier = signed_in(live, bakery.cashier)
    made = _approve(
        live,
        cashier,
        order_id,
        email=bakery.manager.email,
        password=bakery.manager.password,
        totp=fresh_code(live, bakery.manager),
    )
    assert made.created
    assert made.approver_id == bakery.manager.id
    (audited,) = events(live, "refund.created_by_member", made.refund.id)
    assert audited["actor_id"] == bakery.cashier.id
    assert audited["details"]["approved_by"] == bakery.manager.id
    approvals = events(live, "merchant_user.approved", bakery.manager.id)
    assert any(e["actor_id"] == bakery.cashier.id for e in approvals)


def test_a_wrong_approver_password_is_refused_and_counted(live: LivePortal, bakery: Shop) -> None:
    order_id = bakery.paid_order("15.00")
    cashier = signed_in(live, bakery.cashier)
    before, counted = bakery.state(order_id), failures(live, bakery.owner)
    with pytest.raises(InvalidCredentialsError):
        _approve(
            live,
            cashier,
            order_id,
            email=bakery.owner.email,
            password=bakery.owner.password + "x",
            totp=fresh_code(live, bakery.owner),
        )
    assert failures(live, bakery.owner) == counted + 1
    assert bakery.state(order_id) == before
    assert refund_count(live, order_id) == 0
    failed = events(live, "merchant_user.approval_failed", bakery.owner.id)
    assert failed[-1]["actor_id"] == bakery.cashier.id
    # A right approval clears the count.
    _approve(
        live,
        cashier,
        order_id,
        email=bakery.owner.email,
        password=bakery.owner.password,
        totp=fresh_code(live, bakery.owner),
        number="till-ok",
    )
    assert failures(live, bakery.owner) == 0


def test_an_approver_of_another_merchant_is_refused(
    live: LivePortal, bakery: Shop, rival: Shop
) -> None:
    order_id = bakery.paid_order("15.00")
    cashier = signed_in(live, bakery.cashier)
    before, counted = bakery.state(order_id), failures(live, rival.manager)
    with pytest.raises(InvalidCredentialsError):
        _approve(
            live,
            cashier,
            order_id,
            email=rival.manager.email,
            password=rival.manager.password,
            totp=fresh_code(live, rival.manager),
        )
    assert bakery.state(order_id) == before
    assert failures(live, rival.manager) == counted  # never touched


def test_a_cashier_cannot_approve(live: LivePortal, bakery: Shop) -> None:
    order_id = bakery.paid_order("15.00")
    other_cashier = live.member(bakery.merchant, "cashier")
    cashier = signed_in(live, bakery.cashier)
    before = bakery.state(order_id)
    with pytest.raises(ForbiddenError):
        _approve(
            live,
            cashier,
            order_id,
            email=other_cashier.email,
            password=other_cashier.password,
            totp="",
        )
    assert bakery.state(order_id) == before


# -- the pages -------------------------------------------------------------------------------


def test_the_order_list_searches_and_pages(live: LivePortal, bakery: Shop) -> None:
    order_id = bakery.paid_order("33.30")
    browser = PortalClient(live, bakery.cashier)
    try:
        page = browser.client.get(
            "/merchant/orders", params={"amount_min": "33.30", "amount_max": "33.30"}
        )
        assert page.status_code == 200
        assert f'data-order="{order_id}"' in page.text
        refused = browser.client.get("/merchant/orders", params={"from": "yesterday"})
        assert refused.status_code == 422
        # The cashier reads the order but is offered no refund.
        detail = browser.client.get(f"/merchant/orders/{order_id}")
        assert detail.status_code == 200
        assert "/refund" not in detail.text
        assert browser.post(f"/merchant/orders/{order_id}/refund", amount="1.00").status_code == 403
        assert browser.client.get("/merchant/refunds").status_code == 403
    finally:
        browser.close()


def test_another_merchants_order_page_is_404(live: LivePortal, bakery: Shop, rival: Shop) -> None:
    order_id = rival.paid_order("21.00")
    browser = PortalClient(live, bakery.owner)
    try:
        answer = browser.client.get(f"/merchant/orders/{order_id}")
        assert answer.status_code == 404
        assert "21.00" not in answer.text
        before = rival.state(order_id)
        refused = browser.post(
            f"/merchant/orders/{order_id}/refund", amount="1.00", out_refund_no="steal-1"
        )
        assert refused.status_code == 404
        assert rival.state(order_id) == before
    finally:
        browser.close()


def test_owner_refunds_in_the_browser_with_the_code(
    live: LivePortal, bakery: Shop, page: Page, tmp_path: Path
) -> None:
    order_id = bakery.paid_order("600.00")
    portal_sign_in(page, live, bakery.owner, landing="/merchant/")
    page.click("nav.portal-nav >> text=Orders")
    expect(page.locator(f"tr[data-order='{order_id}']")).to_be_visible()
    _shoot(page, "orders", tmp_path)
    page.click(f"tr[data-order='{order_id}'] a")
    expect(page.locator("[data-figure=amount]")).to_have_text("¥600.00")
    _shoot(page, "order", tmp_path)
    before = bakery.state(order_id)
    # Above the threshold without the code: refused, nothing changed.
    page.fill("#amount", "600.00")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form.refund-form button[type=submit]")
    expect(page.locator(".alert-error")).to_be_visible()
    page.screenshot(path=str(tmp_path / "refund-refused.png"))  # a POST's answer: no re-GET
    assert bakery.state(order_id) == before
    page.click("text=Back to the order")
    page.fill("#amount", "600.00")
    page.fill("#totp_code", fresh_code(live, bakery.owner))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form.refund-form button[type=submit]")
    expect(page.locator(".alert-ok")).to_be_visible()
    expect(page.locator("[data-figure=refunded]")).to_have_text("¥600.00")
    expect(page.locator("form.refund-form")).to_have_count(0)
    _shoot(page, "order-refunded", tmp_path)
    page.click("nav.portal-nav >> text=Refunds")
    expect(page.locator("table[data-list=refunds]")).to_contain_text(order_id)
    _shoot(page, "refunds", tmp_path)


def test_manager_refunds_in_the_browser(
    live: LivePortal, bakery: Shop, page: Page, tmp_path: Path
) -> None:
    order_id = bakery.paid_order("40.00")
    portal_sign_in(page, live, bakery.manager, landing="/merchant/")
    expect(page.locator("nav.portal-nav")).not_to_contain_text("Developers")
    page.goto(live.url(f"/merchant/orders/{order_id}"))
    page.fill("#amount", "12.50")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form.refund-form button[type=submit]")
    expect(page.locator("[data-figure=refunded]")).to_have_text("¥12.50")
    expect(page.locator("#amount")).to_have_value("27.50")


def _shoot(page: Page, name: str, tmp_path: Path) -> None:
    check_console_page(page)
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
