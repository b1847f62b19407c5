"""The Settlements page (SQLite and PostgreSQL): a day's settlement made by the real job
shows for owners and managers with its CSV and PDF statements; cashiers are refused;
another merchant's settlement is 404. In Chromium with axe-core, photographed."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ewallet.audit.service import Actor
from ewallet.merchants.views import NewMerchant
from ewallet.models.settlement import PartyKind
from ewallet.risk.limits import CHINA_TIME
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.settlement.service import list_settlements, run_settlement, set_payout_account
from ewallet.settlement.views import SettlementView
from tests.fixtures.console import check_console_page
from tests.fixtures.merchant_portal import LivePortal, MemberLogin, PortalClient, portal_sign_in


def _settled_shop(live: LivePortal, name: str, amount: str, number: str) -> NewMerchant:
    merchant = live.merchant(name)
    customer = live.customer("500.00")

    async def trade() -> None:
        await set_payout_account(
            live.shop.services,
            Actor.system(),
            party_kind=PartyKind.MERCHANT,
            party_id=merchant.merchant.id,
            account_number=TEST_CARDS[0].number,
            holder_name=TEST_CARDS[0].holder_name,
        )
        order_id = await live.shop.order(merchant, amount, out_trade_no=number)
        paid = await live.shop.pay(customer, order_id)
        assert paid.status_code in (200, 201), paid.text

    live.run(trade())
    return merchant


@pytest.fixture(scope="module")
def settled(live: LivePortal) -> tuple[NewMerchant, NewMerchant]:
    """Two merchants with a sale each on the first day, settled by the real job the next
    morning (China time)."""
    day = live.clock.now().astimezone(CHINA_TIME).date()
    ours = _settled_shop(live, "Ledger Cakes", "88.00", "S-88")
    theirs = _settled_shop(live, "Other Cakes", "77.00", "S-77")
    live.clock.set(datetime.combine(day + timedelta(days=1), time(2), tzinfo=CHINA_TIME))
    live.run(run_settlement(live.shop.services, day=day))
    return ours, theirs


def _only(live: LivePortal, merchant: NewMerchant) -> SettlementView:
    found = live.run(
        list_settlements(
            live.shop.services,
            party_kind=PartyKind.MERCHANT,
            party_id=merchant.merchant.id,
            limit=10,
        )
    )
    (row,) = found.items
    return row


def test_owner_and_manager_download_the_statements(
    live: LivePortal, settled: tuple[NewMerchant, NewMerchant]
) -> None:
    ours, _ = settled
    row = _only(live, ours)
    for role in ("owner", "manager"):
        browser = PortalClient(live, live.member(ours, role))
        try:
            page = browser.client.get("/merchant/settlements")
            assert page.status_code == 200
            assert f'data-settlement="{row.id}"' in page.text
            csv = browser.client.get(f"/merchant/settlements/{row.id}/statement.csv")
            assert csv.status_code == 200
            assert csv.headers["content-type"].startswith("text/csv")
            assert csv.headers["cache-control"] == "no-store"
            assert "S-88" in csv.text
            pdf = browser.client.get(f"/merchant/settlements/{row.id}/statement.pdf")
            assert pdf.status_code == 200
            assert pdf.content.startswith(b"%PDF")
        finally:
            browser.close()


def test_a_cashier_is_refused_and_another_merchants_settlement_is_404(
    live: LivePortal, settled: tuple[NewMerchant, NewMerchant]
) -> None:
    ours, theirs = settled
    their_row = _only(live, theirs)
    cashier = PortalClient(live, live.member(ours, "cashier"))
    owner = PortalClient(live, live.member(ours, "owner"))
    try:
        assert cashier.client.get("/merchant/settlements").status_code == 403
        assert (
            cashier.client.get(f"/merchant/settlements/{their_row.id}/statement.csv").status_code
            == 403
        )
        for kind in ("csv", "pdf"):
            answer = owner.client.get(f"/merchant/settlements/{their_row.id}/statement.{kind}")
            assert answer.status_code == 404
            assert "S-77" not in answer.text
        assert their_row.id not in owner.client.get("/merchant/settlements").text
    finally:
        cashier.close()
        owner.close()


def test_the_settlements_page_in_the_browser(
    live: LivePortal, settled: tuple[NewMerchant, NewMerchant], page: Page, tmp_path: Path
) -> None:
    ours, _ = settled
    manager: MemberLogin = live.member(ours, "manager")
    portal_sign_in(page, live, manager, landing="/merchant/")
    page.click("nav.portal-nav >> text=Settlements")
    expect(page.locator("table[data-list=settlements]")).to_contain_text("¥88.00")
    check_console_page(page)
    page.screenshot(path=str(tmp_path / "settlements.png"), full_page=True)
    with page.expect_download() as download:
        page.click("table[data-list=settlements] a:text('CSV')")
    assert download.value.suggested_filename.endswith(".csv")
