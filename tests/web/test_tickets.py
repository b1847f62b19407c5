"""Support tickets in a browser: open one (refused empty, refused over the quota, nothing
created), read the agent's answer and reply, rate it once resolved (refused before, and a
second time), a closed ticket refusing replies, and another customer's ticket a 404 for
every page and form -- its text never shown."""

from __future__ import annotations

from typing import Any, cast

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Table, func, select

from ewallet.audit.service import Actor
from ewallet.models.support import SupportTicket, SupportTicketMessage
from ewallet.support.service import customer as support
from ewallet.support.staff import service as staff_desk
from tests.fixtures.accounts import TestUser
from tests.fixtures.staff import make_staff
from tests.fixtures.web import LiveWallet, PageErrors, check_page, open_page, sign_in

tickets_table = cast(Table, SupportTicket.__table__)
messages_table = cast(Table, SupportTicketMessage.__table__)
EN = {"Accept-Language": "en"}


def _tickets(live: LiveWallet, user: TestUser) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(
                select(tickets_table)
                .where(tickets_table.c.user_id == user.id)
                .order_by(tickets_table.c.created_at, tickets_table.c.id)
            )
            return [dict(row._mapping) for row in rows]

    return live.run(read())


def _message_count(live: LiveWallet, ticket_id: str) -> int:
    async def read() -> int:
        async with live.shop.engine.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(messages_table)
                .where(messages_table.c.ticket_id == ticket_id)
            )
        return int(count or 0)

    return live.run(read())


def _agent(live: LiveWallet) -> Actor:
    login = live.run(make_staff(live.shop.engine, live.shop.security, live.clock, "support_agent"))
    return Actor("staff", login.id)


def _open(live: LiveWallet, user: TestUser, subject: str = "Card charged twice") -> str:
    thread = live.run(
        support.open_my_ticket(
            live.shop.services,
            user.id,
            subject=subject,
            body="I was charged twice for one coffee.",
            category="payment",
        )
    )
    return thread.ticket.id


def _set_status(live: LiveWallet, agent: Actor, ticket_id: str, status: str) -> None:
    live.run(
        staff_desk.update(
            live.shop.services,
            agent,
            ticket_id=ticket_id,
            status=status,
            priority=None,
            category=None,
        )
    )


def _csrf(page: Page) -> str:
    """This browser's form token (every page carries it for htmx)."""
    return str(
        page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    )


def test_open_a_ticket_read_the_answer_and_reply(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/tickets"))
    expect(page.get_by_text("You have no tickets yet.")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("What is it about?").select_option("topup")
    page.get_by_label("Subject").fill("Top-up on 2 March not received")
    page.get_by_label("Your message").fill("   ")  # only blanks: refused by the service
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("Write a subject and a message.")
    expect(page.get_by_label("Subject")).to_have_value("Top-up on 2 March not received")
    expect(page.get_by_label("What is it about?")).to_have_value("topup")
    assert _tickets(live, user) == []
    check_page(page)

    page.get_by_label("Your message").fill("I topped up ¥50.00 by card and see nothing.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your ticket is open.")).to_be_visible()
    [ticket] = _tickets(live, user)
    assert (ticket["channel"], ticket["category"], ticket["status"]) == ("web", "topup", "new")
    assert page.url == live.url(f"/tickets/{ticket['id']}?done=opened")
    expect(page.locator(".ticket-ref").first).to_contain_text(ticket["reference"])
    expect(page.locator(".badge").first).to_have_text("Received")
    check_page(page)

    agent = _agent(live)
    live.run(
        staff_desk.reply(
            live.shop.services,
            agent,
            ticket_id=ticket["id"],
            body="We found it: the bank confirms it this afternoon.",
            canned_reply_id=None,
        )
    )
    page.goto(live.url(f"/tickets/{ticket['id']}"))
    expect(page.get_by_text("We found it: the bank confirms it this afternoon.")).to_be_visible()
    expect(page.locator(".thread li").last.locator(".who")).to_contain_text("Customer service")
    expect(page.locator(".badge").first).to_have_text("Awaiting your reply")

    page.get_by_label("Your message").fill("Thank you, I will wait.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message is sent.")).to_be_visible()
    expect(page.locator(".thread li").last).to_contain_text("Thank you, I will wait.")
    expect(page.locator(".badge").first).to_have_text("In progress")
    assert _message_count(live, ticket["id"]) == 3

    page.goto(live.url("/tickets"))
    expect(page.get_by_role("link", name="Top-up on 2 March not received")).to_be_visible()


def test_rate_once_resolved_refused_before_and_twice(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    ticket_id = _open(live, user)
    sign_in(page, live, user)
    page.goto(live.url(f"/tickets/{ticket_id}"))
    expect(page.get_by_role("heading", name="Rate our help")).to_have_count(0)

    early = page.request.post(
        live.url(f"/tickets/{ticket_id}"),
        form={"csrf": _csrf(page), "do": "rate", "rating": "5"},
        headers=EN,
    )
    assert early.status == 409
    assert "A ticket can be rated once it is resolved" in early.text()
    assert _tickets(live, user)[0]["rating"] is None

    _set_status(live, _agent(live), ticket_id, "resolved")
    page.goto(live.url(f"/tickets/{ticket_id}"))
    expect(page.get_by_text("This ticket is resolved. Writing again reopens it.")).to_be_visible()
    page.locator(".stars label").nth(3).click()  # 4
    page.get_by_label("Comment (optional)").fill("Quick and kind.")
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_text("You rated it 4 out of 5.")).to_be_visible()
    expect(page.get_by_text("Thank you for rating our help.")).to_be_visible()
    check_page(page)
    [rated] = _tickets(live, user)
    assert (rated["rating"], rated["rating_comment"]) == (4, "Quick and kind.")

    again = page.request.post(
        live.url(f"/tickets/{ticket_id}"),
        form={"csrf": _csrf(page), "do": "rate", "rating": "1"},
        headers=EN,
    )
    assert again.status == 409
    assert "This ticket has already been rated" in again.text()
    assert _tickets(live, user)[0]["rating"] == 4


def test_a_closed_ticket_takes_no_reply(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    ticket_id = _open(live, user)
    sign_in(page, live, user)
    page.goto(live.url(f"/tickets/{ticket_id}"))
    csrf = _csrf(page)
    _set_status(live, _agent(live), ticket_id, "closed")
    before = _message_count(live, ticket_id)

    # The page still showed the reply form: the post is refused, and nothing is written.
    page.get_by_label("Your message").fill("One more thing")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("This ticket is closed; open a new one")
    expect(page.get_by_role("heading", name="This ticket is closed")).to_be_visible()
    expect(page.get_by_label("Your message")).to_have_count(0)
    assert _message_count(live, ticket_id) == before
    check_page(page)
    assert csrf


def test_the_open_ticket_quota_refuses_with_nothing_created(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    for n in range(live.settings.support_ticket_open_max):
        _open(live, user, subject=f"Question {n}")
    before = len(_tickets(live, user))
    sign_in(page, live, user)
    page.goto(live.url("/tickets/new"))
    page.get_by_label("What is it about?").select_option("other")
    page.get_by_label("Subject").fill("Yet another question")
    page.get_by_label("Your message").fill("Hello again")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many requests")
    expect(page.get_by_label("Your message")).to_have_value("Hello again")
    assert len(_tickets(live, user)) == before


def test_another_customers_ticket_is_not_found_everywhere(
    page: Page, browser: Browser, live: LiveWallet
) -> None:
    owner = live.customer()
    secret_subject = "My private dispute 7731"
    ticket_id = _open(live, owner, subject=secret_subject)
    _set_status(live, _agent(live), ticket_id, "resolved")
    before = (_tickets(live, owner), _message_count(live, ticket_id))

    other = live.customer()
    sign_in(page, live, other)
    shown = page.goto(live.url(f"/tickets/{ticket_id}"))
    assert shown is not None
    assert shown.status == 404
    expect(page.get_by_text(secret_subject)).to_have_count(0)
    check_page(page)

    page.goto(live.url("/tickets"))
    csrf = _csrf(page)
    forms: list[dict[str, str | float | bool]] = [
        {"csrf": csrf, "do": "reply", "body": "I am not the owner"},
        {"csrf": csrf, "do": "rate", "rating": "1"},
    ]
    for form in forms:
        answer = page.request.post(live.url(f"/tickets/{ticket_id}"), form=form)
        assert answer.status == 404
        assert secret_subject not in answer.text()
    assert (_tickets(live, owner), _message_count(live, ticket_id)) == before

    # The list shows only one's own tickets; a post without the form token is refused.
    expect(page.get_by_text(secret_subject)).to_have_count(0)
    owner_page = open_page(browser, errors=PageErrors())
    try:
        sign_in(owner_page, live, owner)
        owner_page.goto(live.url("/tickets"))
        expect(owner_page.get_by_role("link", name=secret_subject)).to_be_visible()
    finally:
        owner_page.context.close()
    refused = page.request.post(
        live.url("/tickets/new"), form={"subject": "Forged", "body": "From another site"}
    )
    assert refused.status == 403
    assert _tickets(live, other) == []
    assert (_tickets(live, owner), _message_count(live, ticket_id)) == before
