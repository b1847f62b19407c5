"""Changing the phone number and unfreezing one's own account in a browser (JavaScript on,
and the change-phone form with JavaScript off): the codes to both numbers, a wrong code
refused next to its field with nothing changed, the change done, the old number refused
at sign-in; the unfreeze page's checks."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Browser, Page, expect

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import PIN, make_id_number
from tests.fixtures.web import (
    LiveWallet,
    PageErrors,
    check_page,
    next_phone,
    open_page,
    sign_in,
)


def other_than(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def change_number(page: Page, live: LiveWallet, old: str, new: str) -> None:
    """Fill the change-phone form step by step, as a person would."""
    page.fill("#new_phone", new)
    page.get_by_role("button", name="Text a code to the new number").click()
    expect(page.get_by_text("We have texted a 6-digit code to the new number.")).to_be_visible()
    page.fill("#new_code", live.sms(new, CodePurpose.CHANGE_PHONE))
    page.get_by_role("button", name=re.compile(r"Text a code to 1\d\d\*\*\*\*\d{4}")).click()
    expect(page.get_by_text("We have texted a 6-digit code to your current")).to_be_visible()
    expect(page.locator("#new_phone")).to_have_value(new)  # what was typed survives


def test_change_the_number_with_both_codes(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    new = next_phone()
    sign_in(page, live, user)
    page.goto(live.url("/security"))
    page.get_by_role("link", name=re.compile("Change phone number")).click()
    expect(page.locator("h1")).to_have_text("Change phone number")
    check_page(page)
    change_number(page, live, user.phone, new)
    old_code = live.sms(user.phone, CodePurpose.PHONE_CHANGE_OLD)
    # A wrong code for the current number: refused next to it, nothing changed.
    page.fill("#old_code", other_than(old_code))
    page.fill("#payment_password", PIN)
    before = live.snapshot(user)["user"]
    page.get_by_role("button", name="Change my number").click()
    expect(page.locator("#form-error")).to_be_visible()
    expect(page.locator("#old_code")).to_have_attribute("aria-invalid", "true")
    assert live.snapshot(user)["user"]["phone"] == before["phone"] == user.phone
    # The right one: done, this browser still signed in.
    page.fill("#old_code", old_code)
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Change my number").click()
    expect(page.get_by_role("status")).to_contain_text("Done: your account's number is now")
    assert live.snapshot(user)["user"]["phone"] == new
    page.goto(live.url("/me"))
    expect(page).to_have_url(live.url("/me"))


def test_the_form_works_without_javascript(browser: Browser, live: LiveWallet) -> None:
    user = live.customer()
    new = next_phone()
    context = browser.new_context(
        java_script_enabled=False, locale="en-US", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        sign_in(page, live, user)
        page.goto(live.url("/security/phone"))
        change_number(page, live, user.phone, new)
        page.fill("#old_code", live.sms(user.phone, CodePurpose.PHONE_CHANGE_OLD))
        page.fill("#payment_password", PIN)
        page.get_by_role("button", name="Change my number").click()
        expect(page.get_by_role("status")).to_contain_text("Done")
        assert live.snapshot(user)["user"]["phone"] == new
    finally:
        context.close()


def test_lost_number_page_sends_people_without_a_real_name_to_us(
    page: Page, live: LiveWallet
) -> None:
    user = live.newcomer(pin=PIN)
    sign_in(page, live, user)
    page.goto(live.url("/security/phone"))
    page.get_by_role("link", name="Ask for a change without the old number").click()
    expect(page.locator("h1")).to_have_text("Change number without the old one")
    expect(page.get_by_role("link", name="Contact us")).to_be_visible()
    check_page(page)


def test_unfreeze_page_lifts_the_owners_freeze(
    browser: Browser, live: LiveWallet, page_errors: PageErrors
) -> None:
    user = live.customer()
    id_number = make_id_number(sequence="777")
    page = open_page(browser, errors=page_errors)
    try:
        sign_in(page, live, user)
        page.goto(live.url("/me/real-name"))
        page.fill("#real_name", "王五")
        page.fill("#id_number", id_number)
        page.locator("form[action='/me/real-name'] button[type=submit]").click()
        page.goto(live.url("/security/freeze"))
        page.fill("#payment_password", PIN)
        page.get_by_role("button", name="Freeze my account now").click()
        page.get_by_role("link", name="Unfreeze my account").click()
        expect(page.locator("h1")).to_have_text("Unfreeze my account")
        check_page(page)
        page.fill("#real_name", "王五")
        page.fill("#id_number", id_number)
        page.get_by_role("button", name="Text me a code").click()
        page.fill("#code", live.sms(user.phone, CodePurpose.UNFREEZE))
        page.fill("#id_number", make_id_number(sequence="778"))  # the wrong ID
        page.fill("#payment_password", PIN)
        page.get_by_role("button", name="Unfreeze my account").click()
        expect(page.locator("#form-error")).to_contain_text("identity details do not match")
        assert live.snapshot(user)["user"]["status"] == "frozen"
        live.clock.advance(timedelta(seconds=live.settings.sms_resend_seconds + 1))
        page.get_by_role("button", name="Send the code again").click()
        page.fill("#code", live.sms(user.phone, CodePurpose.UNFREEZE))
        page.fill("#id_number", id_number)
        page.fill("#payment_password", PIN)
        page.get_by_role("button", name="Unfreeze my account").click()
        expect(page.get_by_role("status")).to_contain_text("Done: your account is active again")
        assert live.snapshot(user)["user"]["status"] == "active"
    finally:
        page.context.close()
