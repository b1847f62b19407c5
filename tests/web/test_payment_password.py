"""The payment password in the browser: set the first one, change it with the current one
(a wrong one counted as a payment's is), and reset a forgotten one with an SMS code -- and
the ID number when the account's identity is verified, as the API asks. Two new PINs that
differ are the page's own refusal: no service is asked, nothing is counted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import PIN, TestUser, make_id_number
from tests.fixtures.web import LiveWallet, check_page, sign_in

NEW_PIN = "730492"
ID_NUMBER = make_id_number(born="19850612", sequence="001")


def user_row(live: LiveWallet, user: TestUser) -> Any:
    return live.run(live.shop.row(user))


def pin_is(live: LiveWallet, user: TestUser, pin: str) -> bool:
    stored = user_row(live, user).payment_password_hash
    return stored is not None and bool(live.run(live.shop.security.pins.verify(stored, pin)))


def fill_pins(page: Page, new: str, confirm: str, *, current: str | None = None) -> None:
    if current is not None:
        page.fill("#current_pin", current)
    page.fill("#new_pin", new)
    page.fill("#confirm_pin", confirm)
    page.get_by_role("button", name="Save payment password").click()


def another(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_set_the_first_payment_password(page: Page, live: LiveWallet) -> None:
    user = live.newcomer()
    sign_in(page, live, user)
    page.goto(live.url("/me/payment-password"))
    expect(page.locator("h1")).to_have_text("Set your payment password")
    expect(page.locator("#current_pin")).to_have_count(0)
    check_page(page)
    before = live.snapshot(user)

    fill_pins(page, NEW_PIN, "730493")
    expect(page.get_by_role("alert")).to_contain_text("not the same")
    expect(page.locator("#confirm_pin")).to_have_attribute("aria-invalid", "true")
    assert live.snapshot(user) == before

    fill_pins(page, "111111", "111111")
    problem = page.locator("#new_pin-error")
    expect(problem).to_contain_text("too easy to guess")
    expect(problem).to_contain_text("Not one digit repeated")
    expect(page.locator("#new_pin")).to_have_value("")
    assert live.snapshot(user) == before

    fill_pins(page, NEW_PIN, NEW_PIN)
    expect(page.locator("h1")).to_have_text("Your payment password is set")
    check_page(page)
    assert pin_is(live, user, NEW_PIN)


def test_change_it_a_wrong_current_one_counts_as_at_payment(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/me/payment-password"))
    expect(page.locator("h1")).to_have_text("Change your payment password")
    check_page(page)
    before = live.snapshot(user)

    fill_pins(page, NEW_PIN, NEW_PIN, current="999990")
    expect(page.get_by_role("alert")).to_contain_text("The payment password is wrong")
    expect(page.get_by_role("alert")).to_contain_text("Attempts left: 2.")
    expect(page.locator("#current_pin")).to_have_attribute("aria-invalid", "true")
    row = user_row(live, user)
    assert row.payment_failures == 1  # counted, as a payment's wrong PIN is
    assert row.payment_password_hash == before["user"]["payment_password_hash"]
    counted = live.snapshot(user)

    fill_pins(page, NEW_PIN, "730493", current=PIN)  # refused before any service call
    expect(page.get_by_role("alert")).to_contain_text("not the same")
    assert live.snapshot(user) == counted

    fill_pins(page, NEW_PIN, NEW_PIN, current=PIN)
    expect(page.locator("h1")).to_have_text("Your payment password is changed")
    assert pin_is(live, user, NEW_PIN)
    assert user_row(live, user).payment_failures == 0


def test_forgot_it_reset_with_an_sms_code(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/me/payment-password"))
    page.get_by_role("link", name="Forgot your payment password?").click()
    expect(page.locator("h1")).to_have_text("Reset your payment password")
    expect(page.locator("main")).to_contain_text("139****")
    check_page(page)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("status")).to_contain_text("We texted a 6-digit code")
    expect(page.locator("#identity")).to_have_count(0)  # no identity verified, no card
    check_page(page)
    code = live.sms(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    before = live.snapshot(user)

    page.fill("#code", another(code))
    fill_pins(page, NEW_PIN, NEW_PIN)
    expect(page.get_by_role("alert")).to_contain_text("The verification code is wrong")
    assert live.snapshot(user) == before

    page.fill("#code", code)
    fill_pins(page, "123456", "123456")
    expect(page.locator("#new_pin-error")).to_contain_text("Not a run of digits")
    expect(page.locator("#code")).to_have_value(code)  # refused before the code was spent
    assert live.snapshot(user) == before

    fill_pins(page, NEW_PIN, "730493")
    expect(page.get_by_role("alert")).to_contain_text("not the same")
    assert live.snapshot(user) == before

    fill_pins(page, NEW_PIN, NEW_PIN)
    expect(page.locator("h1")).to_have_text("Your payment password is reset")
    check_page(page)
    assert pin_is(live, user, NEW_PIN)


def test_forgot_it_a_verified_account_also_gives_its_id_number(
    page: Page, live: LiveWallet
) -> None:
    user = live.newcomer(pin=PIN)
    verified = live.run(
        live.shop.client.post(
            "/v1/me/identity",
            json={"real_name": "李四", "id_number": ID_NUMBER},
            headers=live.shop.auth(user),
        )
    )
    assert verified.status_code == 200, verified.text
    sign_in(page, live, user)
    page.goto(live.url("/me/payment-password/forgot"))
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_label("ID number")).to_be_visible()
    check_page(page)
    before = live.snapshot(user)

    page.fill("#code", live.sms(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD))
    page.fill("#identity", make_id_number(born="19850612", sequence="002"))
    fill_pins(page, NEW_PIN, NEW_PIN)
    expect(page.get_by_role("alert")).to_contain_text("The identity details do not match")
    expect(page.get_by_role("alert")).to_contain_text("Attempts left: 4.")
    after = live.snapshot(user)
    assert after["user"] == before["user"]  # the PIN is as it was
    assert after["audit"] == before["audit"] + 1  # the wrong try is counted, as the API does

    # The code went with the wrong try: a new one, once the resend wait is over.
    live.clock.advance(timedelta(seconds=live.settings.sms_resend_seconds))
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("status")).to_contain_text("We texted a 6-digit code")
    page.fill("#code", live.sms(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD))
    page.fill("#identity", ID_NUMBER)
    fill_pins(page, NEW_PIN, NEW_PIN)
    expect(page.locator("h1")).to_have_text("Your payment password is reset")
    assert pin_is(live, user, NEW_PIN)


def test_a_form_without_its_token_changes_nothing(page: Page, live: LiveWallet) -> None:
    user = live.newcomer()
    sign_in(page, live, user)
    before = live.snapshot(user)
    answer = page.request.post(
        live.url("/me/payment-password"),
        form={"mode": "set", "new_pin": NEW_PIN, "confirm_pin": NEW_PIN},
    )
    assert answer.status == 403
    assert live.snapshot(user) == before


def test_the_pages_need_a_signed_in_user(page: Page, live: LiveWallet) -> None:
    for path in ("/me/payment-password", "/me/payment-password/forgot"):
        page.goto(live.url(path))
        assert page.url.startswith(live.url("/signin?next="))
