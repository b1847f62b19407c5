"""The help centre and contact page in a browser: search as you type (and without script),
topics, an article with "was this helpful?", an unknown article's 404, the hotline and
the call-back request (booked, refused with nothing written, cancelled; another
customer's request is a 404)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Table, func, select

from ewallet.callbacks.service import booking_slots
from ewallet.callbacks.views import Slot
from ewallet.config import Settings
from ewallet.help.views import CHINA_TIME
from ewallet.kit.errors import ValidationFailedError
from ewallet.models.support_chat import SupportCallback
from ewallet.models.tables import help_articles, help_feedback
from ewallet.web.wallet.help_centre import article_html
from tests.fixtures.accounts import TestUser
from tests.fixtures.web import LiveWallet, PageErrors, check_page, open_page, sign_in

callbacks_table = cast(Table, SupportCallback.__table__)


@pytest.fixture
def no_script(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """A phone-sized English page with JavaScript turned off."""
    context = browser.new_context(
        locale="en-US", viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    opened = context.new_page()
    yield opened
    context.close()


def _votes(live: LiveWallet, slug: str) -> tuple[int, int]:
    async def read() -> tuple[int, int]:
        async with live.shop.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(help_feedback.c.helpful, func.count())
                    .join(help_articles, help_articles.c.id == help_feedback.c.article_id)
                    .where(help_articles.c.slug == slug)
                    .group_by(help_feedback.c.helpful)
                )
            ).all()
        counts = {bool(helpful): count for helpful, count in rows}
        return counts.get(True, 0), counts.get(False, 0)

    return live.run(read())


def _callbacks(live: LiveWallet, user: TestUser) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(
                select(callbacks_table)
                .where(callbacks_table.c.user_id == user.id)
                .order_by(callbacks_table.c.id)
            )
            return [dict(row._mapping) for row in rows]

    return live.run(read())


def test_search_as_you_type_then_browse_by_topic(page: Page, live: LiveWallet) -> None:
    page.goto(live.url("/help"))
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    expect(page.get_by_role("heading", name="Common questions")).to_be_visible()
    check_page(page)

    page.get_by_label("Search the help articles").press_sequentially("forgot pin", delay=20)
    first = page.locator("#help-body .help-links a").first
    expect(first).to_have_attribute("href", "/help/articles/forgot-payment-password")
    expect(page.locator("#help-status")).to_contain_text("found")
    assert page.url == live.url("/help")  # swapped in place, no navigation
    check_page(page)

    page.get_by_label("Search the help articles").fill("")
    page.get_by_label("Search the help articles").press("Backspace")
    topic = page.locator("details.help-topic").filter(has_text="Withdrawing")
    expect(topic).to_be_visible()
    topic.locator("summary").click()
    topic.get_by_role("link", name="Withdrawal fees").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdrawal fees")


def test_search_without_script_and_in_chinese(
    no_script: Page, browser_zh: Page, live: LiveWallet
) -> None:
    no_script.goto(live.url("/help"))
    no_script.get_by_label("Search the help articles").fill("withdrawl fee")
    no_script.get_by_role("button", name="Search").click()
    expect(no_script.locator("#help-body .help-links a").first).to_have_attribute(
        "href", "/help/articles/withdrawal-fees"
    )
    assert "/help?q=withdrawl+fee" in no_script.url
    no_script.goto(live.url("/help?q=qwxzv"))
    # No good match: the closest articles anyway, and the ways to reach a person.
    expect(
        no_script.get_by_role("heading", name="No article quite matches “qwxzv”")
    ).to_be_visible()
    expect(no_script.locator("#help-body .help-links a").first).to_be_visible()
    reach = no_script.locator(".help-reach")
    expect(reach.get_by_role("link", name="Call 95588")).to_have_attribute("href", "tel:95588")
    expect(reach.get_by_role("link", name="Open a support ticket")).to_have_attribute(
        "href", "/tickets"
    )

    page = browser_zh
    page.goto(live.url("/help"))
    expect(page.get_by_role("heading", name="常见问题")).to_be_visible()
    page.get_by_label("搜索帮助文章").press_sequentially("卡怎么解绑", delay=20)
    first = page.locator("#help-body .help-links a").first
    expect(first).to_have_attribute("href", "/help/articles/unbind-card")
    expect(first).to_contain_text("如何解绑银行卡")
    check_page(page)


def test_article_with_a_table_and_was_it_helpful(
    page: Page, no_script: Page, live: LiveWallet
) -> None:
    before = _votes(live, "account-classes")
    page.goto(live.url("/help/articles/account-classes"))
    article = page.locator("article")
    expect(article.get_by_role("heading", level=1)).to_contain_text("Account classes")
    expect(article.locator("table th").first).to_have_text("Class")
    expect(article.locator("strong").first).to_be_visible()
    assert "**" not in article.inner_text()
    check_page(page)

    page.get_by_role("button", name="Yes, it helped").click()
    expect(page.get_by_text("We are glad this article helped.")).to_be_visible()
    assert page.url == live.url("/help/articles/account-classes")  # swapped in place
    assert _votes(live, "account-classes") == (before[0] + 1, before[1])
    check_page(page)

    # Without script: a plain post, then back to the article, thanked.
    no_script.goto(live.url("/help/articles/account-classes"))
    no_script.get_by_role("button", name="No, it did not").click()
    expect(no_script.get_by_text("Sorry it did not help.")).to_be_visible()
    assert no_script.url.endswith("/help/articles/account-classes?feedback=no#feedback")
    assert _votes(live, "account-classes") == (before[0] + 1, before[1] + 1)


def test_unknown_article_is_a_404_page_and_feedback_needs_the_form_token(
    page: Page, live: LiveWallet
) -> None:
    answer = page.goto(live.url("/help/articles/no-such-article"))
    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("alert")).to_contain_text("Not found")

    before = _votes(live, "refunds")
    with httpx.Client(base_url=live.base_url) as client:
        client.get("/help/articles/refunds")
        refused = client.post("/help/articles/refunds/feedback", data={"helpful": "yes"})
        missing = client.get("/help/articles/nope/feedback")
    assert refused.status_code == 403
    assert missing.status_code in (404, 405)
    assert _votes(live, "refunds") == before


def test_contact_hotline_and_call_back_booked_refused_and_cancelled(
    page: Page, browser: Browser, live: LiveWallet
) -> None:
    page.goto(live.url("/help/contact"))
    expect(page.get_by_role("link", name="Call 95588").first).to_have_attribute("href", "tel:95588")
    expect(page.get_by_text("24 hours a day, every day")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in to book a call-back")).to_be_visible()
    check_page(page)

    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/help/contact"))
    masked = user.phone[3:6] + "****" + user.phone[-4:]
    expect(page.get_by_text(masked)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("not available at the moment")
    check_page(page)

    # Refused: a window already past (today's first slot) -- nothing is written.
    page.get_by_label("Time").select_option("00:00-01:00")
    page.get_by_label("What is the call about?").fill("A top-up I cannot find")
    page.get_by_role("button", name="Request a call-back").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a time that is still ahead")
    expect(page.get_by_label("What is the call about?")).to_have_value("A top-up I cannot find")
    assert _callbacks(live, user) == []
    check_page(page)

    # Booked: the suggested slot (the first still ahead) on the account's own number.
    page.goto(live.url("/help/contact"))
    page.get_by_label("What is the call about?").fill("A top-up I cannot find")
    page.get_by_role("button", name="Request a call-back").click()
    expect(page.get_by_text("Your call-back is booked.")).to_be_visible()
    [booked] = _callbacks(live, user)
    assert booked["phone"] == user.phone
    assert booked["status"] == "requested"
    assert booked["preferred_from"] > live.clock.now()
    assert booked["preferred_to"] - booked["preferred_from"] == timedelta(hours=1)
    expect(page.locator("#callbacks")).to_contain_text("Waiting for our call")

    # Another customer cannot cancel it: a 404 page, the request untouched.
    other = live.customer()
    intruder = open_page(browser, errors=PageErrors())
    try:
        sign_in(intruder, live, other)
        intruder.goto(live.url("/help/contact"))
        csrf = intruder.locator("input[name=csrf]").first.get_attribute("value")
        answer = intruder.request.post(
            live.url(f"/help/contact/callbacks/{booked['id']}/cancel"), form={"csrf": csrf or ""}
        )
        assert answer.status == 404
        assert "A top-up I cannot find" not in answer.text()
    finally:
        intruder.context.close()
    assert _callbacks(live, user)[0]["status"] == "requested"

    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("The call-back request is cancelled.")).to_be_visible()
    assert _callbacks(live, user)[0]["status"] == "cancelled"
    expect(page.locator("#callbacks")).to_contain_text("Cancelled")


def test_article_markdown_is_escaped_and_only_our_constructs_become_tags() -> None:
    html = str(
        article_html(
            "Intro <script>alert(1)</script> **bold** `code`\n\n"
            "1. first\n2. second [ours](/help/articles/refunds) [evil](javascript:alert(1))\n\n"
            "| A | B |\n|---|---|\n| <b>x</b> | y |\n\n"
            "## Heading\n- item\n  continued"
        )
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<ol><li>first</li>" in html
    assert '<a href="/help/articles/refunds">ours</a>' in html
    assert "javascript:" not in html.replace("evil", "")
    assert '<th scope="col">A</th>' in html
    assert "<td>&lt;b&gt;x&lt;/b&gt;</td>" in html
    assert "<h3>Heading</h3>" in html
    assert "<ul><li>item continued</li></ul>" in html


def test_call_back_slots_follow_the_hotline_hours() -> None:
    day = date(2026, 3, 2)
    around = booking_slots(Settings(support_hours="00:00-24:00"))
    assert len(around) == 24
    assert (around[0].label, around[-1].label) == ("00:00-01:00", "23:00-24:00")
    assert around[-1].window(day)[1] == datetime(2026, 3, 3, tzinfo=CHINA_TIME)

    evening = booking_slots(Settings(support_hours="20:30-22:00"))
    assert [slot.label for slot in evening] == ["20:30-21:30", "21:30-22:00"]

    night = booking_slots(Settings(support_hours="22:00-02:00"))
    assert [slot.label for slot in night] == [
        "22:00-23:00",
        "23:00-24:00",
        "00:00-01:00",
        "01:00-02:00",
    ]
    start, end = night[1].window(day)
    assert (start.hour, end - start) == (23, timedelta(hours=1))
    assert Slot.parse("09:00-10:00") == Slot("09:00", "10:00")
    with pytest.raises(ValidationFailedError):
        Slot.parse("9-10")


def test_with_chat_switched_off_the_chat_page_offers_a_ticket_and_the_hotline(
    page: Page, live: LiveWallet
) -> None:
    assert not live.settings.support_chat_enabled  # this module's server: the default
    sign_in(page, live, live.customer())
    page.goto(live.url("/chat"))
    expect(page.get_by_text("Online chat is not available at the moment.")).to_be_visible()
    expect(page.get_by_role("link", name="Write to us in a ticket")).to_have_attribute(
        "href", "/tickets/new"
    )
    expect(page.get_by_role("link", name="Call 95588")).to_have_attribute("href", "tel:95588")
    expect(page.locator("#chat")).to_have_count(0)
    check_page(page)
