"""The security centre in a browser: devices (sign one out, sign out all others -- for the
API too), the authenticator (set-up with a QR code, recovery codes once, asked for by a new
browser, turned off with a code), the anti-phishing code and freezing the account (money
refused after, unfreezing by phone). Refusals -- a wrong authenticator code, a wrong payment
password, another user's device -- change nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pyotp
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import LOGIN_PASSWORD, PIN, TestUser, outbox
from tests.fixtures.web import LiveWallet, PageErrors, check_page, open_page, sign_in


def app_token(live: LiveWallet, user: TestUser, device: str = "app") -> str:
    """Sign ``user`` in from a phone app (``POST /v1/sessions``); its access token."""
    with httpx.Client(base_url=live.base_url) as client:
        answer = client.post(
            "/v1/sessions",
            json={
                "phone": user.phone,
                "login_password": LOGIN_PASSWORD,
                "device_id": f"{device}-{user.id}",
                "device_label": "Phone app",
            },
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["tokens"]["access_token"])


def api(live: LiveWallet, method: str, path: str, token: str, **body: Any) -> httpx.Response:
    with httpx.Client(base_url=live.base_url) as client:
        headers = {"Authorization": f"Bearer {token}"}
        if method == "POST":
            headers["Idempotency-Key"] = f"web-test-{path}-{token[-12:]}"
            return client.post(path, json=body, headers=headers)
        return client.request(method, path, headers=headers)


def browser_session(page: Page) -> str:
    cookie = next(c for c in page.context.cookies() if c["name"] == "ewallet_session")
    return cookie["value"].rpartition(".")[0]


def csrf_of(page: Page) -> str:
    """This browser's form token (every page carries it for htmx, forms or not)."""
    headers = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")
    return str(headers["X-CSRF-Token"])


def other_than(*codes: str) -> str:
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in codes)


def test_security_centre_shows_where_each_protection_stands(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/me"))
    page.get_by_role("link", name=re.compile("Security centre")).click()
    expect(page.locator("h1")).to_have_text("Security centre")
    for name, href, state in (
        ("Devices", "/security/devices", None),
        ("Authenticator app", "/security/totp", "Off"),
        ("Anti-phishing code", "/security/anti-phishing", "Not set"),
        ("Real-name verification", "/me/real-name", "Not verified"),
        ("Freeze my account", "/security/freeze", None),
    ):
        link = page.get_by_role("link", name=re.compile(name))
        expect(link).to_have_attribute("href", href)
        if state:
            expect(link).to_contain_text(state)
    check_page(page)


def test_devices_marks_this_browser_and_signs_one_out_for_the_api_too(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer()
    token = app_token(live, user)
    sign_in(page, live, user)
    page.goto(live.url("/security/devices"))
    devices = page.locator("li.device")
    expect(devices).to_have_count(2)
    mine = devices.filter(has_text="This browser")
    expect(mine).to_contain_text("Web browser")
    expect(mine.get_by_role("button")).to_have_count(0)
    check_page(page)

    devices.filter(has_text="Phone app").get_by_role("button", name=re.compile("Sign out")).click()
    expect(page.get_by_role("status")).to_contain_text("Signed out")
    expect(devices).to_have_count(1)
    assert api(live, "GET", "/v1/me/devices", token).status_code == 401
    page.reload()
    expect(page.locator("li.device-current")).to_be_visible()  # this browser still in


def test_another_users_device_is_not_found_and_untouched(page: Page, live: LiveWallet) -> None:
    user, other = live.customer(), live.customer()
    their_token = app_token(live, other)
    their_device = api(live, "GET", "/v1/me/devices", their_token).json()["items"][0]["id"]
    sign_in(page, live, user)
    page.goto(live.url("/security/devices"))
    before = live.snapshot(other)
    answer = page.request.post(
        live.url(f"/security/devices/{their_device}/sign-out"), form={"csrf": csrf_of(page)}
    )
    assert answer.status == 404
    assert "Phone app" not in answer.text()
    assert "资源不存在" in answer.text()  # the refusal page (no Accept-Language: zh-CN)
    assert live.snapshot(other) == before
    assert api(live, "GET", "/v1/me/devices", their_token).status_code == 200


def test_sign_out_all_other_devices_ends_api_sessions_and_keeps_this_browser(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer()
    token = app_token(live, user)
    bare = live.run(live.shop.new_session(user.id))  # a second API session, no device
    bare_token = live.shop.token(user, session_id=bare)
    sign_in(page, live, user)
    page.goto(live.url("/security/devices"))
    page.get_by_role("button", name="Sign out all other devices").click()
    expect(page.get_by_role("status")).to_contain_text("Every other device has been signed out")
    expect(page.locator("li.device")).to_have_count(1)
    expect(page.locator("li.device-current")).to_be_visible()
    assert api(live, "GET", "/v1/me/devices", token).status_code == 401
    assert api(live, "GET", "/v1/me/devices", bare_token).status_code == 401
    page.goto(live.url("/me"))
    expect(page.locator("nav.tabbar")).to_be_visible()
    mine = live.shop.token(user, session_id=browser_session(page))
    assert api(live, "GET", "/v1/me", mine).status_code == 200
    check_page(page)


def test_authenticator_setup_recovery_codes_sign_in_and_turning_it_off(
    page: Page, live: LiveWallet, browser: Browser, page_errors: PageErrors
) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/security/totp"))
    page.get_by_role("button", name="Set up the authenticator").click()
    expect(page.locator("svg.qr[role=img]")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    check_page(page)
    totp = pyotp.TOTP(secret)
    now = int(live.clock.now().timestamp())

    before = live.snapshot(user)
    wrong = other_than(*(totp.at(now + 30 * step) for step in (-1, 0, 1)))
    page.fill("#code", wrong)
    page.get_by_role("button", name="Turn the authenticator on").click()
    expect(page.get_by_role("alert")).to_contain_text("The authenticator code is wrong")
    expect(page.locator("svg.qr")).to_be_visible()  # the same set-up, to try again
    assert page.locator("#totp-secret").inner_text().replace(" ", "") == secret
    assert live.snapshot(user) == before

    page.fill("#code", totp.at(now - 30))
    page.get_by_role("button", name="Turn the authenticator on").click()
    expect(page.locator("h1")).to_have_text("Save your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    check_page(page)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("h1")).to_contain_text("On")

    # A new browser must give the authenticator's code to sign in.
    other = open_page(browser, errors=page_errors)
    try:
        other.goto(live.url("/signin"))
        other.fill("#phone", user.phone)
        other.fill("#password", LOGIN_PASSWORD)
        other.click("form[action='/signin'] button[type=submit]")
        expect(other.get_by_label("Authenticator app")).to_be_checked()
        other.fill("#code", totp.at(now))
        other.click("form[action='/signin/step-up'] button[type=submit]")
        expect(other.locator("nav.tabbar")).to_be_visible()
    finally:
        other.context.close()

    # Turning it off: a wrong code is refused and it stays on; the right one turns it off.
    page.fill("#code", other_than(*(totp.at(now + 30 * step) for step in (-1, 0, 1, 2))))
    page.get_by_role("button", name="Turn the authenticator off").click()
    expect(page.get_by_role("alert")).to_contain_text("The authenticator code is wrong")
    expect(page.locator("h1")).to_contain_text("On")
    assert live.run(live.shop.row(user)).totp_enabled_at is not None
    page.fill("#code", totp.at(now + 30))
    page.get_by_role("button", name="Turn the authenticator off").click()
    expect(page.get_by_role("status")).to_contain_text("The authenticator is off")
    assert live.run(live.shop.row(user)).totp_enabled_at is None


def test_anti_phishing_code_set_shown_in_our_sms_and_removed(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/security/anti-phishing"))
    expect(page.get_by_text("You have no anti-phishing code yet.")).to_be_visible()
    check_page(page)

    before = live.snapshot(user)
    page.fill("#code", "ab-12")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Use 2 to 8 letters")
    expect(page.locator("#code")).to_have_value("ab-12")
    assert live.snapshot(user) == before

    page.fill("#code", "蓝鲸42")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.locator(".phrase-sms")).to_contain_text("蓝鲸42")
    assert any("蓝鲸42" in body for body in live.run(_sms_to(live, user.phone)))

    page.get_by_role("button", name="Remove the code").click()
    expect(page.get_by_role("status")).to_contain_text("Removed")
    assert live.run(live.shop.row(user)).anti_phishing_code is None


async def _sms_to(live: LiveWallet, phone: str) -> list[str]:
    async with live.shop.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.payload).where(outbox.c.topic == "sms.send"))
        return [str(p.get("body", "")) for (p,) in rows if p.get("to") == phone]


def test_freeze_refuses_a_wrong_pin_then_stops_money_and_shows_the_hotline(
    page: Page, live: LiveWallet
) -> None:
    user, payee = live.customer("100.00"), live.customer("0")
    token = app_token(live, user)
    sign_in(page, live, user)
    page.goto(live.url("/security/freeze"))
    check_page(page)

    page.fill("#payment_password", other_than(PIN))
    page.get_by_role("button", name="Freeze my account now").click()
    expect(page.get_by_role("alert")).to_contain_text("The payment password is wrong")
    row = live.run(live.shop.row(user))
    assert (row.status, row.frozen_at) == ("active", None)
    assert api(live, "GET", "/v1/me", token).status_code == 200  # nobody signed out

    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Freeze my account now").click()
    expect(page.locator("h1")).to_have_text("Your account is frozen")
    expect(page.get_by_role("link", name="Call 95588")).to_have_attribute("href", "tel:95588")
    check_page(page)
    assert live.run(live.shop.row(user)).status == "frozen"
    assert api(live, "GET", "/v1/me", token).status_code == 401  # the app is signed out

    # This browser stays in, and its session's money actions answer account_frozen.
    page.goto(live.url("/me"))
    expect(page.get_by_text("Frozen", exact=True)).to_be_visible()
    before, payee_before = live.balance(user), live.balance(payee)
    refused = api(
        live,
        "POST",
        "/v1/transfers",
        live.shop.token(user, session_id=browser_session(page)),
        to_phone=payee.phone,
        amount="10.00",
        payment_password=PIN,
    )
    assert (refused.status_code, refused.json()["code"]) == (423, "account_frozen")
    assert (live.balance(user), live.balance(payee)) == (before, payee_before)


def test_freeze_with_an_sms_code(page: Page, live: LiveWallet) -> None:
    user = live.newcomer()  # no payment password: the SMS code is the way
    sign_in(page, live, user)
    page.goto(live.url("/security/freeze"))
    expect(page.locator("#payment_password")).to_have_count(0)
    page.get_by_role("button", name="Text me a code").click()
    expect(page.get_by_text("We have texted a 6-digit code")).to_be_visible()
    code = live.sms(user.phone, CodePurpose.FREEZE)
    page.fill("#code", other_than(code))
    page.get_by_role("button", name="Freeze my account now").click()
    expect(page.get_by_role("alert")).to_contain_text("The verification code is wrong")
    assert live.run(live.shop.row(user)).status == "active"
    page.fill("#code", code)
    page.get_by_role("button", name="Freeze my account now").click()
    expect(page.locator("h1")).to_have_text("Your account is frozen")
    assert live.run(live.shop.row(user)).status == "frozen"


def test_security_forms_without_their_token_change_nothing(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    sign_in(page, live, user)
    before = live.snapshot(user)
    forms: tuple[tuple[str, dict[str, str | float | bool]], ...] = (
        ("/security/freeze", {"method": "pin", "payment_password": PIN}),
        ("/security/devices/sign-out-others", {}),
        ("/security/anti-phishing", {"code": "abc"}),
        ("/security/totp/start", {}),
        ("/me/real-name", {"real_name": "张三", "id_number": "110105199003071234"}),
    )
    for path, form in forms:
        answer = page.request.post(live.url(path), form=form)
        assert answer.status == 403, path
    assert live.snapshot(user) == before
