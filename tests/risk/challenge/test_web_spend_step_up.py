"""Challenged bill payments, withdrawals and static-QR payments completed in the web wallet
(Chromium, SQLite and PostgreSQL): a rule set challenging the channel, the step-up page
instead of a refusal with nothing moved, the SMS code from the outbox and the PIN, then the
movement made once. test_web.py has the transfer and order flows and the page's own rules
(a code sent again, the Chinese page)."""

from __future__ import annotations

import os

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from ewallet.models.identity import CodePurpose
from ewallet.models.risk import RuleAction
from ewallet.models.tables import bill_payments, withdrawals
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.cards import bind
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.risk.engine.helpers import install, rule
from tests.static_qr.conftest import code_of, open_store
from tests.web.conftest import browser, live, page, page_errors

__all__ = ["browser", "live", "page", "page_errors"]

# Set to a folder to keep the step-up pages' pictures (390x844, the phone size) there.
SHOTS = os.environ.get("EWALLET_STEP_UP_SHOTS")
WRONG_PIN = "000000" if PIN != "000000" else "111111"


def challenge(live: LiveWallet, channel: str) -> None:
    """The active rule set: one live rule challenging ``channel`` from 10 yuan."""
    live.run(
        install(live.shop, rule("ask", "amount >= 10", RuleAction.CHALLENGE, events=(channel,)))
    )


def rows(live: LiveWallet, user: TestUser) -> dict[str, int]:
    """The user's bill payments and withdrawals (none is left by a challenged attempt)."""

    async def count() -> dict[str, int]:
        async with live.shop.engine.connect() as conn:
            return {
                table.name: int(
                    await conn.scalar(
                        select(func.count()).select_from(table).where(table.c.user_id == user.id)
                    )
                    or 0
                )
                for table in (bill_payments, withdrawals)
            }

    return live.run(count())


def confirm(page: Page, code: str | None, pin: str = PIN) -> None:
    if code is not None:
        page.fill("#code", code)
    page.fill("#payment_password", pin)
    page.get_by_role("button", name="Confirm and pay").click()


def expect_step_up(page: Page, *facts: str) -> None:
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.get_by_text("We have texted a code to your phone")).to_be_visible()
    for fact in facts:
        expect(page.locator(".facts")).to_contain_text(fact)


def test_a_challenged_bill_payment_is_completed(page: Page, live: LiveWallet) -> None:
    user = live.customer("600.00")
    challenge(live, "bill")
    sign_in(page, live, user)
    page.goto(live.url("/bills/sgcc_bj"))
    page.fill("#account_no", "1000000071")
    page.click("form[action='/bills/sgcc_bj/lookup'] button[type=submit]")
    page.fill("#amount", "88.00")
    page.fill("#payment_password", PIN)
    page.click("form[action$='/pay'] button[type=submit]")

    expect_step_up(page, "State Grid Beijing", "¥88.00")
    check_page(page)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/bill-step-up-{live.backend}.png", full_page=True)
    assert (live.balance(user), rows(live, user)["bill_payments"]) == (600_00, 0)

    # A wrong code: said so on the same form, nothing paid.
    code = live.sms(user.phone, CodePurpose.STEP_UP)
    confirm(page, "000000" if code != "000000" else "111111")
    expect(page.locator("#form-error")).to_be_visible()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    assert (live.balance(user), rows(live, user)["bill_payments"]) == (600_00, 0)

    confirm(page, code)
    expect(page.get_by_role("heading", name="Bill paid")).to_be_visible()
    assert page.url.startswith(live.url("/bills/payments/"))
    assert (live.balance(user), rows(live, user)["bill_payments"]) == (600_00 - 88_00, 1)


def test_a_challenged_withdrawal_is_completed(page: Page, live: LiveWallet) -> None:
    user = live.customer("500.00")
    live.run(bind(live.shop, user, TEST_CARDS[0]))
    challenge(live, "withdrawal")
    sign_in(page, live, user)
    page.goto(live.url("/withdraw"))
    page.fill("#amount", "200.00")
    page.get_by_role("button", name="Next: see the fee").click()
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Withdraw ¥200.00").click()

    expect_step_up(page, "ending in", "¥200.00")
    check_page(page)
    assert (live.balance(user), rows(live, user)["withdrawals"]) == (500_00, 0)

    # The right code and a wrong PIN: only the PIN is asked again, nothing paid out.
    confirm(page, live.sms(user.phone, CodePurpose.STEP_UP), WRONG_PIN)
    expect(page.get_by_text("The code was right.")).to_be_visible()
    expect(page.locator("#code")).to_have_count(0)
    assert (live.balance(user), rows(live, user)["withdrawals"]) == (500_00, 0)

    confirm(page, None)
    expect(page.get_by_role("heading", name="Withdrawal complete")).to_be_visible()
    assert live.balance(user) == 500_00 - 200_00
    assert rows(live, user)["withdrawals"] == 1


def test_a_challenged_password_free_static_qr_payment_is_completed(
    page: Page, live: LiveWallet
) -> None:
    merchant = live.run(live.shop.merchant("Corner Bakery"))
    token = live.run(
        code_of(live.shop, merchant, live.run(open_store(live.shop, merchant, "East Gate")))
    )
    user = live.customer("100.00")
    on = live.run(
        live.shop.client.put(
            "/v1/me/password-free-payments",
            json={"enabled": True, "per_payment_cap": "20.00", "payment_password": PIN},
            headers=live.shop.auth(user),
        )
    )
    assert on.status_code == 200, on.text
    challenge(live, "static_qr")
    sign_in(page, live, user)
    page.goto(live.url(f"/pay/qr/{token}"))
    page.fill("#amount", "15.00")  # within the password-free cap: no PIN typed
    page.get_by_role("button", name="Pay", exact=True).click()

    # Risk control's challenge, not the password-free "enter your PIN": the code and the PIN.
    expect_step_up(page, "East Gate", "¥15.00")
    check_page(page)
    assert live.balance(user) == 100_00

    confirm(page, live.sms(user.phone, CodePurpose.STEP_UP))
    expect(page.get_by_role("heading", name="Payment made")).to_be_visible()
    assert page.url.startswith(live.url("/pay/receipts/"))
    assert live.balance(user) == 100_00 - 15_00
