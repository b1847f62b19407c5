"""Opening a wallet in the browser: phone, SMS code (with its "send again" countdown, held
by the server with JavaScript off), a login password with its strength meter, then signed
in and asked for a payment password. Each refusal -- wrong or expired code, weak password,
a phone that has an account -- creates no user and signs nobody in."""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.sync_api import Browser, Page, expect

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import outbox, users
from tests.fixtures.web import PHONE_SIZE, LiveWallet, check_page, next_phone

GOOD_PASSWORD = "Quiet river at dawn 7"


def accounts_of(live: LiveWallet, phone: str) -> int:
    return live.run(live.shop.count(users, users.c.phone == phone))


def codes_texted(live: LiveWallet, phone: str) -> int:
    async def count() -> int:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(outbox.select().where(outbox.c.topic == "sms.send"))
            return sum(
                1
                for row in rows
                if row.payload.get("to") == phone
                and row.payload.get("purpose") == CodePurpose.REGISTER.value
            )

    return live.run(count())


def signed_in(page: Page) -> bool:
    return any(c["name"] == "ewallet_session" for c in page.context.cookies())


def ask_code(page: Page, live: LiveWallet, phone: str) -> None:
    page.goto(live.url("/register"))
    page.fill("#phone", phone)
    page.get_by_role("button", name="Send code").click()
    expect(page.locator("#code")).to_be_visible()


def submit(page: Page, code: str, password: str) -> None:
    page.fill("#code", code)
    page.fill("#password", password)
    page.get_by_role("button", name="Create my wallet").click()


def test_register_signs_in_and_asks_for_a_payment_password(page: Page, live: LiveWallet) -> None:
    phone = next_phone()
    page.goto(live.url("/register"))
    expect(page.locator("h1")).to_have_text("Create your wallet")
    check_page(page)
    page.fill("#phone", phone)
    page.get_by_role("button", name="Send code").click()

    expect(page.get_by_role("status")).to_contain_text("139****")
    resend = page.get_by_role("button", name="Again in")
    expect(resend).to_be_disabled()  # wallet.js counts the 60 seconds down
    assert resend.get_attribute("data-countdown") == "60"
    check_page(page)
    meter = page.get_by_role("meter", name="Password strength")
    page.fill("#password", "abc")
    expect(meter).to_have_attribute("aria-valuenow", "1")
    expect(page.locator("[data-strength-text]")).to_have_text("Weak")
    submit(page, live.sms(phone, CodePurpose.REGISTER), GOOD_PASSWORD)

    expect(page.locator("h1")).to_have_text("Your wallet is ready")
    assert page.url == live.url("/register/welcome")
    check_page(page)
    assert accounts_of(live, phone) == 1
    assert signed_in(page)
    expect(page.locator("nav.tabbar")).to_be_visible()
    page.get_by_role("link", name="Set payment password").click()
    expect(page.locator("h1")).to_have_text("Set your payment password")


def test_a_wrong_code_creates_nobody(page: Page, live: LiveWallet) -> None:
    phone = next_phone()
    ask_code(page, live, phone)
    code = live.sms(phone, CodePurpose.REGISTER)
    submit(page, f"{(int(code) + 1) % 1_000_000:06d}", GOOD_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("The verification code is wrong")
    expect(page.locator("#code")).to_have_value("")
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password")).to_have_value("")
    assert accounts_of(live, phone) == 0
    assert not signed_in(page)


def test_an_expired_code_creates_nobody(page: Page, live: LiveWallet) -> None:
    phone = next_phone()
    ask_code(page, live, phone)
    code = live.sms(phone, CodePurpose.REGISTER)
    live.clock.advance(timedelta(seconds=live.settings.sms_code_ttl_seconds + 1))
    submit(page, code, GOOD_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("The verification code has expired")
    assert accounts_of(live, phone) == 0
    assert not signed_in(page)


def test_a_weak_password_is_refused_at_its_field_in_chinese(
    browser_zh: Page, live: LiveWallet
) -> None:
    page = browser_zh
    phone = next_phone()
    page.goto(live.url("/register"))
    page.fill("#phone", phone)
    page.get_by_role("button", name="获取验证码").click()
    code = live.sms(phone, CodePurpose.REGISTER)
    page.fill("#code", code)
    page.fill("#password", "12345678")
    page.get_by_role("button", name="注册并登录").click()

    problem = page.locator("#password-error")
    expect(problem).to_contain_text("登录密码强度不足")
    expect(problem).to_contain_text("12345678")  # the reason: a run of digits
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#code")).to_have_value(code)  # not spent: the policy comes first
    check_page(page)
    assert accounts_of(live, phone) == 0
    assert not signed_in(page)

    page.fill("#password", GOOD_PASSWORD)
    page.get_by_role("button", name="注册并登录").click()
    expect(page.locator("h1")).to_have_text("钱包已开通")
    assert accounts_of(live, phone) == 1


def test_a_phone_that_has_an_account_is_told_to_sign_in(page: Page, live: LiveWallet) -> None:
    owner = live.customer()
    before = live.snapshot(owner)
    ask_code(page, live, owner.phone)
    submit(page, live.sms(owner.phone, CodePurpose.REGISTER), GOOD_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("This phone number already has an account")
    expect(page.get_by_role("link", name="Forgot your login password?")).to_be_visible()
    assert accounts_of(live, owner.phone) == 1
    assert not signed_in(page)
    after = live.snapshot(owner)
    assert after["user"] == before["user"]
    assert after["revoked_sessions"] == before["revoked_sessions"]


def test_an_early_resend_is_refused_by_the_server_with_javascript_off(
    browser: Browser, live: LiveWallet
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE_SIZE, locale="en-US")
    try:
        page = context.new_page()
        phone = next_phone()
        ask_code(page, live, phone)
        page.get_by_role("button", name="Send again").click()
        expect(page.get_by_role("alert")).to_contain_text(
            "You can ask for a new code in 60 seconds."
        )
        expect(page.locator("#code")).to_be_visible()  # still on the code step
        assert codes_texted(live, phone) == 1

        live.clock.advance(timedelta(seconds=live.settings.sms_resend_seconds))
        page.get_by_role("button", name="Send again").click()
        expect(page.get_by_role("status")).to_contain_text("We texted a 6-digit code")
        assert codes_texted(live, phone) == 2
    finally:
        context.close()


def test_the_form_can_be_completed_with_the_keyboard_alone(page: Page, live: LiveWallet) -> None:
    phone = next_phone()
    page.goto(live.url("/register"))
    tab_to(page, "phone")
    page.keyboard.type(phone)
    page.keyboard.press("Enter")
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(live.sms(phone, CodePurpose.REGISTER))
    tab_to(page, "password")
    page.keyboard.type(GOOD_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Your wallet is ready")
    assert accounts_of(live, phone) == 1


def tab_to(page: Page, element_id: str) -> None:
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


def test_a_code_request_without_its_form_token_texts_nothing(live: LiveWallet) -> None:
    phone = next_phone()
    with httpx.Client(base_url=live.base_url) as client:
        client.get("/register")
        refused = client.post("/register/code", data={"phone": phone})
        assert refused.status_code == 403
    assert codes_texted(live, phone) == 0


def test_a_signed_in_browser_is_sent_home(page: Page, live: LiveWallet) -> None:
    phone = next_phone()
    ask_code(page, live, phone)
    submit(page, live.sms(phone, CodePurpose.REGISTER), GOOD_PASSWORD)
    expect(page.locator("h1")).to_have_text("Your wallet is ready")
    page.goto(live.url("/register"))
    assert page.url == live.url("/")
