"""Transfers in the web wallet: the payee's masked name confirmed before the PIN, the receipt,
"change" keeping what was typed, one transfer however often the form is posted, the whole
journey by keyboard, and the refusals (balance, unknown number, oneself) with nothing
changed. The cross-cutting failure stories (frozen, maintenance, locked PIN) are in
test_money_failures.py; tests/transfers holds the use case's own rules."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update

from ewallet.models.tables import transfers, users
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.web import LiveWallet, check_page, sign_in


def named(live: LiveWallet, user: TestUser, name_masked: str) -> None:
    """Give ``user`` a verified real name (masked, as real-name verification stores it)."""

    async def work() -> None:
        async with live.shop.engine.begin() as conn:
            await conn.execute(
                update(users).where(users.c.id == user.id).values(real_name_masked=name_masked)
            )

    live.run(work())


def transfers_sent(live: LiveWallet, user: TestUser) -> int:
    async def work() -> int:
        async with live.shop.engine.connect() as conn:
            found = await conn.scalar(
                select(func.count())
                .select_from(transfers)
                .where(transfers.c.payer_user_id == user.id)
            )
            return int(found or 0)

    return live.run(work())


def money_state(live: LiveWallet, sender: TestUser, payee: TestUser) -> dict[str, Any]:
    """Everything a refused transfer must leave as it was."""
    return {
        "sender": live.snapshot(sender),
        "balances": (live.balance(sender), live.balance(payee)),
        "sent": transfers_sent(live, sender),
    }


def national(user: TestUser) -> str:
    """The number as a person types it: ``139 0000 0001``."""
    digits = user.phone.removeprefix("+86")
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"


def masked(user: TestUser) -> str:
    digits = user.phone.removeprefix("+86")
    return f"{digits[:3]}****{digits[-4:]}"


def fill_transfer(
    page: Page, live: LiveWallet, payee: TestUser, amount: str, memo: str = ""
) -> None:
    """The first step, filled in and sent: the confirmation (or a refusal) is shown."""
    page.goto(live.url("/transfer"))
    page.fill("#to_phone", national(payee))
    page.fill("#amount", amount)
    if memo:
        page.fill("#memo", memo)
    with page.expect_navigation():  # the box is looked for on the page the POST answers
        page.click("form[action='/transfer/confirm'] button[type=submit]")
    acknowledge(page)


def acknowledge(page: Page) -> None:
    """Tick the scam warning's box when the confirmation shows it (a first transfer)."""
    box = page.locator("input[name=acknowledge_new_payee]")
    if box.count():
        box.check()


def test_transfer_shows_the_masked_payee_before_the_pin_then_a_receipt(
    page: Page, live: LiveWallet
) -> None:
    sender, payee = live.customer("100.00"), live.customer("0")
    named(live, payee, "*明")
    sign_in(page, live, sender)
    page.goto(live.url("/transfer"))
    expect(page.get_by_text("¥100.00")).to_be_visible()
    check_page(page)

    fill_transfer(page, live, payee, "12.3", memo="Lunch")
    assert page.url == live.url("/transfer/confirm")
    expect(page.locator(".payee-name")).to_have_text("*明")
    expect(page.locator(".payee-phone")).to_have_text(masked(payee))
    expect(page.get_by_text("First transfer to this person")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("¥12.30")
    expect(page.locator(".facts")).to_contain_text("Lunch")
    check_page(page)

    # "Change" brings the first step back as it was typed.
    page.get_by_role("button", name="Change the details").click()
    expect(page.locator("#to_phone")).to_have_value(national(payee))
    expect(page.locator("#amount")).to_have_value("12.30")
    expect(page.locator("#memo")).to_have_value("Lunch")
    page.get_by_role("button", name="Next").click()

    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Transfer now").click()
    # The scam warning's box is required: unticked, the browser does not send the form.
    assert page.url == live.url("/transfer/confirm")
    acknowledge(page)
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Transfer now").click()
    expect(page.get_by_role("heading", name="Transfer sent")).to_be_visible()
    assert page.url.startswith(live.url("/transfers/trf_"))
    expect(page.locator(".receipt")).to_contain_text("¥12.30")
    expect(page.locator(".receipt")).to_contain_text("*明")
    expect(page.locator(".facts")).to_contain_text("Lunch")
    check_page(page)
    assert (live.balance(sender), live.balance(payee)) == (87_70, 12_30)

    # The payee reads it from their side; a second transfer is no longer "first".
    receipt = page.url
    page.context.clear_cookies()
    sign_in(page, live, payee)
    page.goto(receipt)
    expect(page.get_by_role("heading", name="Transfer received")).to_be_visible()


def test_another_users_transfer_is_not_found(page: Page, live: LiveWallet) -> None:
    sender, payee, stranger = live.customer("50.00"), live.customer("0"), live.customer("0")
    sign_in(page, live, sender)
    fill_transfer(page, live, payee, "7.77", memo="secret note")
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Transfer now").click()
    expect(page.get_by_role("heading", name="Transfer sent")).to_be_visible()
    receipt = page.url

    page.context.clear_cookies()
    sign_in(page, live, stranger)
    answer = page.goto(receipt)
    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Not done")).to_be_visible()
    content = page.content()
    assert "7.77" not in content
    assert "secret note" not in content
    assert masked(sender) not in content
    check_page(page)


def test_posting_the_confirmation_twice_transfers_once(page: Page, live: LiveWallet) -> None:
    sender, payee = live.customer("100.00"), live.customer("0")
    sign_in(page, live, sender)
    fill_transfer(page, live, payee, "30.00")
    page.fill("#payment_password", PIN)
    fields = page.eval_on_selector(
        "form[action='/transfer']", "f => Object.fromEntries(new FormData(f))"
    )
    first = page.request.post(live.url("/transfer"), form=fields, max_redirects=0)
    second = page.request.post(live.url("/transfer"), form=fields, max_redirects=0)
    assert first.status == second.status == 303
    assert first.headers["location"] == second.headers["location"]
    assert (live.balance(sender), live.balance(payee)) == (70_00, 30_00)
    assert transfers_sent(live, sender) == 1
    # The browser's own double tap lands on the same receipt.
    page.get_by_role("button", name="Transfer now").click()
    expect(page.get_by_role("heading", name="Transfer sent")).to_be_visible()
    assert page.url == live.url(first.headers["location"])
    assert transfers_sent(live, sender) == 1


def test_a_transfer_by_keyboard_alone(page: Page, live: LiveWallet) -> None:
    sender, payee = live.customer("20.00"), live.customer("0")
    sign_in(page, live, sender)
    page.goto(live.url("/transfer"))
    keyboard = page.keyboard

    def tab_to(selector: str) -> None:
        for _ in range(15):
            keyboard.press("Tab")
            if page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#to_phone")
    keyboard.type(national(payee))
    tab_to("#amount")
    keyboard.type("5.00")
    keyboard.press("Enter")
    expect(page.locator(".payee-phone")).to_have_text(masked(payee))
    tab_to("input[name=acknowledge_new_payee]")
    keyboard.press("Space")
    tab_to("#payment_password")
    keyboard.type(PIN)
    tab_to("form[action='/transfer'] button[type=submit]")
    keyboard.press("Space")
    expect(page.get_by_role("heading", name="Transfer sent")).to_be_visible()
    assert (live.balance(sender), live.balance(payee)) == (15_00, 5_00)


def test_more_than_the_balance_is_refused_in_chinese_and_changes_nothing(
    browser_zh: Page, live: LiveWallet
) -> None:
    page = browser_zh
    sender, payee = live.customer("10.00"), live.customer("0")
    sign_in(page, live, sender)
    fill_transfer(page, live, payee, "10.01")
    before = money_state(live, sender, payee)
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="立即转账").click()
    expect(page.get_by_role("alert")).to_contain_text("余额不足")
    expect(page.locator("#payment_password")).to_have_value("")
    expect(page.locator(".payee-phone")).to_have_text(masked(payee))
    check_page(page)
    assert money_state(live, sender, payee) == before


def test_an_unknown_number_and_ones_own_are_refused_before_the_pin(
    page: Page, live: LiveWallet
) -> None:
    sender, payee = live.customer("10.00"), live.customer("0")
    sign_in(page, live, sender)
    before = money_state(live, sender, payee)

    page.goto(live.url("/transfer"))
    page.fill("#to_phone", "136 0000 0009")
    page.fill("#amount", "1.00")
    page.fill("#memo", "hello")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("alert")).to_contain_text("No wallet is registered with this phone")
    expect(page.locator("#to_phone")).to_have_value("136 0000 0009")
    expect(page.locator("#memo")).to_have_value("hello")
    expect(page.locator("#payment_password")).to_have_count(0)
    check_page(page)

    fill_transfer(page, live, sender, "1.00")
    expect(page.get_by_role("alert")).to_contain_text("You cannot transfer to your own wallet")
    fill_transfer(page, live, payee, "1.005")
    expect(page.get_by_role("alert")).to_contain_text("The amount is not valid")
    assert money_state(live, sender, payee) == before
