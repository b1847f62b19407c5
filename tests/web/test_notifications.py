"""Notifications in a browser: the list in the reader's language, marking one or all read
(posts with the CSRF token), the unread count on home dropping, and another user's notice
refused as not found with nothing changed."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.fixtures.accounts import TestUser, notifications
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.web.test_home import add_notices, unread


def read_marks(live: LiveWallet, user: TestUser) -> dict[str, Any]:
    """Each of the user's notices and when it was read (None: unread)."""

    async def marks() -> dict[str, Any]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(
                select(notifications.c.id, notifications.c.read_at).where(
                    notifications.c.user_id == user.id
                )
            )
            return {row.id: row.read_at for row in rows}

    return live.run(marks())


def test_mark_one_then_all_read_and_the_home_count_drops(page: Page, live: LiveWallet) -> None:
    user = live.customer("10.00")
    sign_in(page, live, user)
    first, second, third = add_notices(live, user, 3)
    count = unread(live, user)
    assert count >= 3
    page.goto(live.url("/"))
    expect(page.locator("#unread-count")).to_have_text(f"{count} unread")

    page.locator("#notices-link").click()
    expect(page).to_have_url(live.url("/notifications"))
    items = page.locator("li.notice")
    expect(items).to_have_count(count)
    expect(items.first).to_contain_text("Transfer received")
    expect(items.first).to_contain_text("张*伟 sent you 3.00 CNY")  # newest first
    expect(page.locator("li.notice-unread")).to_have_count(count)
    check_page(page)

    page.locator(f"#n-{third}").get_by_role("button", name="Mark as read").click()
    expect(page.locator(f"#n-{third}")).not_to_contain_text("Unread")
    expect(page.locator(f"#n-{third} button")).to_have_count(0)
    expect(page.locator("li.notice-unread")).to_have_count(count - 1)
    marks = read_marks(live, user)
    assert marks[third] is not None
    assert marks[first] is None
    assert marks[second] is None

    page.goto(live.url("/"))
    expect(page.locator("#unread-count")).to_have_text(f"{count - 1} unread")

    page.goto(live.url("/notifications"))
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator("li.notice-unread")).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)
    assert unread(live, user) == 0
    page.goto(live.url("/"))
    expect(page.locator("#notices-link")).to_contain_text("All read")


def test_notices_show_in_chinese(browser_zh: Page, live: LiveWallet) -> None:
    user = live.customer("1.00")
    sign_in(browser_zh, live, user)
    add_notices(live, user, 1)
    browser_zh.goto(live.url("/notifications"))
    expect(browser_zh.locator("h1")).to_have_text("消息通知")
    expect(browser_zh.locator("li.notice").first).to_contain_text("转账到账")
    expect(browser_zh.get_by_role("button", name="全部标为已读")).to_be_visible()


def test_another_users_notice_is_not_found_and_a_post_without_token_is_refused(
    page: Page, live: LiveWallet
) -> None:
    owner = live.customer("1.00")
    (theirs,) = add_notices(live, owner, 1)
    stranger = live.customer("1.00")
    sign_in(page, live, stranger)
    page.goto(live.url("/notifications"))
    expect(page.locator(f"#n-{theirs}")).to_have_count(0)
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    before = (live.snapshot(owner), read_marks(live, owner))

    refused = page.request.post(
        live.url(f"/notifications/{theirs}/read"), form={"csrf": token}, max_redirects=0
    )
    assert refused.status == 404
    assert "alert" in refused.text()  # the refusal page, in the reader's language
    assert "张*伟" not in refused.text()

    assert (live.snapshot(owner), read_marks(live, owner)) == before

    # A form posted from elsewhere (no token) marks nothing, even the user's own.
    add_notices(live, stranger, 1)
    mine = (live.snapshot(stranger), read_marks(live, stranger))
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=live.base_url, cookies=cookies) as client:
        forged = client.post("/notifications/read-all", data={})
        assert forged.status_code == 403
    assert (live.snapshot(stranger), read_marks(live, stranger)) == mine
