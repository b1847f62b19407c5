"""The seed's failure stories of money, told through the web wallet's transfer pages: a
frozen account, a maintenance window, and a payment password locked by three wrong
entries. Each is refused in the reader's language with nothing changed: both balances, the
sender's row and side effects, and no transfer row."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from ewallet.audit.service import Actor
from ewallet.identity.protection.service import freeze_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.ops.service import cancel_window, schedule_window
from ewallet.staff.principal import StaffPrincipal
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.staff import make_staff
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.web.test_transfers import fill_transfer, money_state

SEND = "form[action='/transfer'] button[type=submit]"


def browser_session(page: Page) -> str:
    cookie = next(c for c in page.context.cookies() if c["name"] == "ewallet_session")
    return cookie["value"].rpartition(".")[0]


def freeze(live: LiveWallet, user: TestUser, *, keep_session_id: str) -> None:
    """The owner freezes the account (as from the security centre: this browser stays
    signed in)."""

    async def work(uow: UnitOfWork) -> None:
        await freeze_user(
            uow,
            clock=live.clock,
            user_id=user.id,
            frozen_by="self",
            reason="frozen by the owner",
            hotline="95588",
            actor=Actor("user", user.id),
            keep_session_id=keep_session_id,
        )

    live.run(run_unit(live.shop.engine, work))


def open_window(live: LiveWallet) -> tuple[StaffPrincipal, str]:
    """A maintenance window in force from now for an hour, scheduled by an operator."""

    async def work() -> tuple[StaffPrincipal, str]:
        shop = live.shop
        login = await make_staff(shop.engine, shop.security, shop.clock, "operator")
        now = shop.clock.now()
        until = now + timedelta(hours=1)
        operator = StaffPrincipal(login.id, "stf-session", "operator", False, until)
        window = await schedule_window(
            shop.services, operator, starts_at=now, ends_at=until, message=None
        )
        return operator, window.id

    return live.run(work())


def close_window(live: LiveWallet, operator: StaffPrincipal, window_id: str) -> None:
    live.run(cancel_window(live.shop.services, operator, window_id=window_id))


def test_a_frozen_account_cannot_transfer(page: Page, live: LiveWallet) -> None:
    sender, payee = live.customer("100.00"), live.customer("0")
    sign_in(page, live, sender)
    fill_transfer(page, live, payee, "10.00")
    page.fill("#payment_password", PIN)
    freeze(live, sender, keep_session_id=browser_session(page))  # the PIN form is on screen
    before = money_state(live, sender, payee)

    page.click(SEND)
    expect(page.get_by_role("alert")).to_contain_text("The account is frozen")
    check_page(page)
    assert money_state(live, sender, payee) == before

    # The transfer page itself now says so instead of offering the form.
    page.goto(live.url("/transfer"))
    expect(page.get_by_text("Your account is frozen")).to_be_visible()
    expect(page.locator("#to_phone")).to_have_count(0)
    check_page(page)


def test_a_maintenance_window_refuses_the_transfer_with_its_page(
    page: Page, live: LiveWallet
) -> None:
    sender, payee = live.customer("100.00"), live.customer("0")
    sign_in(page, live, sender)
    fill_transfer(page, live, payee, "10.00")
    page.fill("#payment_password", PIN)
    operator, window_id = open_window(live)
    try:
        before = money_state(live, sender, payee)
        page.click(SEND)
        expect(page.get_by_role("heading", name="Down for maintenance")).to_be_visible()
        expect(page.get_by_text("Nothing was done.")).to_be_visible()
        assert money_state(live, sender, payee) == before

        # Reading goes on, under the banner; the first step is refused alike.
        page.goto(live.url("/transfer"))
        expect(page.get_by_role("status")).to_contain_text("Maintenance")
        check_page(page)
        page.fill("#to_phone", payee.phone.removeprefix("+86"))
        page.fill("#amount", "1.00")
        page.click("form[action='/transfer/confirm'] button[type=submit]")
        expect(page.get_by_role("heading", name="Down for maintenance")).to_be_visible()
        assert money_state(live, sender, payee) == before
    finally:
        close_window(live, operator, window_id)
    page.goto(live.url("/transfer"))
    expect(page.get_by_role("status")).to_have_count(0)


def test_three_wrong_pins_lock_the_payment_password(page: Page, live: LiveWallet) -> None:
    sender, payee = live.customer("100.00"), live.customer("0")
    sign_in(page, live, sender)
    fill_transfer(page, live, payee, "10.00")
    before = money_state(live, sender, payee)
    for told in (
        "2 more wrong tries will lock it",
        "One more wrong try will lock it",
        "The payment password is locked",
    ):
        page.fill("#payment_password", "000000")
        page.click(SEND)
        expect(page.get_by_role("alert")).to_contain_text(told)
    # Locked: the page offers the reset instead of the PIN field...
    expect(page.locator("#payment_password")).to_have_count(0)
    expect(page.get_by_role("link", name="Reset the payment password")).to_be_visible()
    check_page(page)
    # ... and the right PIN, posted anyway, is refused as locked too (the fourth try).
    fields = page.eval_on_selector(
        "form[action='/transfer']", "f => Object.fromEntries(new FormData(f))"
    )
    fourth = page.request.post(
        live.url("/transfer"), form={**fields, "payment_password": PIN}, max_redirects=0
    )
    assert fourth.status == 423
    assert "支付密码已锁定" in fourth.text()  # a request without Accept-Language: zh-CN
    after = money_state(live, sender, payee)
    assert after["balances"] == before["balances"]
    assert after["sent"] == before["sent"] == 0
    assert after["sender"]["user"]["payment_locked_until"] is not None
