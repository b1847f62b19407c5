"""The web wallet's transfer receipt for a transfer risk control holds: "under review,
expected by ..." instead of success, the money held and not with the payee; after a
rejection, "not approved, the money is back"."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.models.operations import StaffRole
from ewallet.models.risk import RuleAction
from ewallet.models.tables import risk_reviews
from ewallet.reviews.service import reject_review
from ewallet.risk.rules import service as rules
from ewallet.staff.principal import StaffPrincipal
from tests.fixtures.accounts import PIN
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.risk.engine.helpers import rule
from tests.web.conftest import browser, live, page, page_errors
from tests.web.test_transfers import fill_transfer

__all__ = ["browser", "live", "page", "page_errors"]

STAFF = Actor("staff", "stf_test")


async def _review_transfers_from_ten_yuan(live: LiveWallet) -> None:
    services = live.shop.services
    draft = await rules.create_draft(services, STAFF, from_version=None, note="test")
    for old in draft.rules:
        await rules.delete_rule(services, STAFF, version=draft.version, name=old.name)
    look = rule("look", "amount >= 10", RuleAction.REVIEW)
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


def test_a_held_transfer_says_under_review_with_the_expected_time(
    page: Page, live: LiveWallet
) -> None:
    sender, payee = live.customer("100.00"), live.customer("0")
    live.run(_review_transfers_from_ten_yuan(live))
    sign_in(page, live, sender)
    fill_transfer(page, live, payee, "12.30")
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Transfer now").click()
    expect(page.get_by_role("heading", name="Transfer under review")).to_be_visible()
    expect(page.get_by_role("heading", name="Transfer sent")).to_have_count(0)
    expect(page.locator(".review-note")).to_contain_text("expected by")
    expect(page.locator(".facts")).to_contain_text("Under review")
    check_page(page)
    assert (live.balance(sender), live.balance(payee)) == (100_00, 0)  # held, not moved

    live.run(_reject_the_review(live))
    page.reload()
    expect(page.get_by_role("heading", name="Transfer not approved")).to_be_visible()
    expect(page.locator(".review-note")).to_contain_text("the money is back in your wallet")
    check_page(page)
    assert (live.balance(sender), live.balance(payee)) == (100_00, 0)
