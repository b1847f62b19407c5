"""The wallet's front door: the landing page for a newcomer, home for a signed-in user (the
balance, the quick actions, the latest activity, the unread notices) and the maintenance
banner while a window is in force."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import func, insert, select

from ewallet.kit.ids import new_id
from tests.fixtures.accounts import TestUser, notifications, users
from tests.fixtures.staff import bearer, make_staff, staff_token
from tests.fixtures.web import LiveWallet, check_page, sign_in

QUICK_ACTIONS = (
    "/topup",
    "/transfer",
    "/pay",
    "/withdraw",
    "/cards",
    "/bills",
    "/history",
    "/help",
)


def add_notices(live: LiveWallet, user: TestUser, count: int) -> list[str]:
    """``count`` unread notices for ``user`` (a transfer received each), newest last."""

    async def insert_them() -> list[str]:
        ids = []
        async with live.shop.engine.begin() as conn:
            for n in range(count):
                notice_id = new_id("ntf")
                await conn.execute(
                    insert(notifications).values(
                        id=notice_id,
                        user_id=user.id,
                        kind="transfer_received",
                        params={
                            "payer": "张*伟",
                            "amount": f"{n + 1}.00",
                            "currency": "CNY",
                            "time": "2026-03-02 09:00",
                            "memo": "",
                        },
                        created_at=live.clock.now() + timedelta(seconds=n + 1),
                        read_at=None,
                        is_security=False,
                    )
                )
                ids.append(notice_id)
        return ids

    return live.run(insert_them())


def unread(live: LiveWallet, user: TestUser) -> int:
    async def count() -> int:
        async with live.shop.engine.connect() as conn:
            found = await conn.scalar(
                select(func.count())
                .select_from(notifications)
                .where(notifications.c.user_id == user.id, notifications.c.read_at.is_(None))
            )
        return int(found or 0)

    return live.run(count())


def test_the_landing_page_invites_a_newcomer_in_both_languages(
    page: Page, browser_zh: Page, live: LiveWallet
) -> None:
    page.goto(live.url("/"))
    expect(page.locator("h1")).to_have_text("Pay, transfer and top up from one wallet")
    expect(page.get_by_role("link", name="Sign in").first).to_have_attribute("href", "/signin")
    expect(page.get_by_role("link", name="Create a wallet")).to_have_attribute("href", "/register")
    expect(page.get_by_role("link", name="Call 95588")).to_have_attribute("href", "tel:95588")
    expect(page.locator("nav.tabbar")).to_have_count(0)
    check_page(page)

    browser_zh.goto(live.url("/"))
    expect(browser_zh.locator("h1")).to_have_text("付款、转账、充值，一个钱包全搞定")
    expect(browser_zh.get_by_role("link", name="注册钱包")).to_be_visible()


def test_home_shows_the_balance_actions_recent_activity_and_unread_notices(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("1000.00")
    for amount in ("10.00", "20.00", "30.00", "40.00", "50.00", "84.50"):
        live.run(live.shop.fund(user, amount))
    sign_in(page, live, user)
    add_notices(live, user, 2)
    expected_unread = unread(live, user)
    before = live.snapshot(user)
    page.goto(live.url("/"))

    expect(page.locator("#balance-amount")).to_have_text("¥1,234.50")
    for path in QUICK_ACTIONS:
        expect(page.locator(f".grid-actions a[href='{path}']")).to_have_count(1)
    rows = page.locator(".recent li.entry")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("+¥84.50")
    expect(rows.last).to_contain_text("+¥20.00")
    for href in rows.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert re.fullmatch(r"/history/[\w-]+", href), href
    expect(page.locator("#unread-count")).to_have_text(f"{expected_unread} unread")
    expect(page.locator("#notices-link")).to_have_attribute("href", "/notifications")
    check_page(page)

    # The balance can be hidden from onlookers; the choice sticks in this browser.
    page.get_by_role("button", name="Hide balance").click()
    expect(page.locator("#balance-amount")).not_to_contain_text("1,234.50")
    page.reload()
    expect(page.locator("#balance-amount")).not_to_contain_text("1,234.50")
    page.get_by_role("button", name="Hide balance").click()
    expect(page.locator("#balance-amount")).to_have_text("¥1,234.50")

    rows.first.locator("a").click()
    expect(page).to_have_url(re.compile(r"/history/[\w-]+$"))
    expect(page.locator(".amount-big")).to_have_text("+¥84.50")
    assert live.snapshot(user) == before  # looking changes nothing


def test_a_new_wallet_home_says_what_to_do_first(page: Page, live: LiveWallet) -> None:
    user = live.customer("0")
    sign_in(page, live, user)
    expect(page.locator("#balance-amount")).to_have_text("¥0.00")
    expect(page.locator(".recent .empty")).to_contain_text("No activity yet")
    expect(page.get_by_role("link", name="See all")).to_have_count(0)


def test_a_frozen_account_is_told_on_home(page: Page, live: LiveWallet) -> None:
    user = live.customer("5.00")
    sign_in(page, live, user)
    live.run(_set_status(live, user, "frozen"))
    try:
        page.goto(live.url("/"))
        expect(page.get_by_role("alert")).to_contain_text("Your account is frozen.")
        expect(page.locator("#balance-amount")).to_have_text("¥5.00")
    finally:
        live.run(_set_status(live, user, "active"))


async def _set_status(live: LiveWallet, user: TestUser, status: str) -> None:
    async with live.shop.engine.begin() as conn:
        await conn.execute(users.update().where(users.c.id == user.id).values(status=status))


def test_the_maintenance_banner_shows_while_a_window_is_in_force(
    page: Page, live: LiveWallet
) -> None:
    user = live.customer("8.00")
    sign_in(page, live, user)
    operator = live.run(_operator(live))
    window_id = live.run(_open_window(live, operator, "Upgrading the ledger until 10:00"))
    try:
        before = live.snapshot(user)
        page.goto(live.url("/"))
        banner = page.locator(".banner-warn")
        expect(banner).to_contain_text("Maintenance")
        expect(banner).to_contain_text("Upgrading the ledger until 10:00")
        expect(page.locator("#balance-amount")).to_have_text("¥8.00")  # reads still work
        check_page(page)
        assert live.snapshot(user) == before
    finally:
        live.run(_close_window(live, operator, window_id))
    page.goto(live.url("/"))
    expect(page.locator(".banner-warn")).to_have_count(0)


async def _operator(live: LiveWallet) -> dict[str, str]:
    shop = live.shop
    login = await make_staff(shop.engine, shop.security, shop.clock, "operator")
    return bearer(
        await staff_token(shop.engine, shop.security, shop.settings, shop.clock, login.id)
    )


async def _open_window(live: LiveWallet, operator: dict[str, str], message: str) -> str:
    starts = live.clock.now()
    body: dict[str, Any] = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "message": message,
    }
    answer: httpx.Response = await live.shop.client.post(
        "/v1/staff/maintenance-windows", json=body, headers=operator
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _close_window(live: LiveWallet, operator: dict[str, str], window_id: str) -> None:
    answer = await live.shop.client.delete(
        f"/v1/staff/maintenance-windows/{window_id}", headers=operator
    )
    assert answer.status_code == 204, answer.text
