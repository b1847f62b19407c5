"""Closing the account and a copy of my data in a browser: the blockers listed with a way
out, then the closure (wrong PIN refused with nothing changed), every session ended -- the
browser's and the phone app's -- and the number free again; the data-copy page's request."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import PIN
from tests.fixtures.limits import spend_in_ledger
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.web.test_security import api, app_token, other_than


def test_closure_lists_blockers_then_closes_for_good(page: Page, live: LiveWallet) -> None:
    user = live.customer("5.00")
    token = app_token(live, user)
    sign_in(page, live, user)
    page.goto(live.url("/security"))
    page.get_by_role("link", name="Close my account").click()
    expect(page.locator("h1")).to_have_text("Close my account")
    expect(page.get_by_text("Your wallet still has money in it.")).to_be_visible()
    expect(page.get_by_role("link", name="Withdraw everything first")).to_have_attribute(
        "href", "/withdraw"
    )
    expect(page.get_by_role("button", name="Close my account for good")).to_have_count(0)
    check_page(page)

    live.run(spend_in_ledger(live.shop, user, "5.00"))  # the money is gone: nothing blocks
    page.reload()
    page.get_by_role("button", name="Text me a code").click()
    expect(page.get_by_text("We have texted a 6-digit code")).to_be_visible()
    code = live.sms(user.phone, CodePurpose.ACCOUNT_CLOSURE)
    page.fill("#payment_password", other_than(PIN))
    page.fill("#code", code)
    page.get_by_role("button", name="Close my account for good").click()
    expect(page.get_by_role("alert")).to_contain_text("The payment password is wrong")
    assert live.run(live.shop.row(user)).status == "active"

    page.fill("#payment_password", PIN)
    page.fill("#code", code)
    page.get_by_role("button", name="Close my account for good").click()
    expect(page.locator("h1")).to_have_text("Account closed")
    row = live.run(live.shop.row(user))
    assert row.status == "closed"
    assert row.phone != user.phone
    assert api(live, "GET", "/v1/me", token).status_code == 401  # the app is signed out
    page.goto(live.url("/security"))
    expect(page).to_have_url(live.url("/signin?next=%2Fsecurity"))  # and so is this browser


def test_data_copy_page_requests_one(page: Page, live: LiveWallet) -> None:
    user = live.customer("1.00")
    sign_in(page, live, user)
    page.goto(live.url("/me/data-copies"))
    check_page(page)
    page.get_by_role("button", name="Ask for a copy").click()
    expect(page.get_by_role("status")).to_contain_text("Requested")
    expect(page.get_by_text("Being made")).to_be_visible()
    page.get_by_role("button", name="Ask for a copy").click()
    expect(page.get_by_role("alert")).to_be_visible()  # one at a time
