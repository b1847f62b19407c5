"""The support agent's console pages in Chromium: the ticket queue and its filters, a ticket
answered with a canned reply, noted, assigned and resolved (the customer reading the answer
in the wallet), attachments, call-backs due today, a phone call logged as a ticket -- and
every page and form refused to a teller, without a session and without the form token,
with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import Table, func, insert, select, update

from ewallet.audit.service import Actor
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.support import (
    SupportAttachment,
    SupportTicket,
    SupportTicketMessage,
    TicketChannel,
)
from ewallet.models.support_chat import SupportCallback
from ewallet.support.service import customer as support
from ewallet.support.service import tickets
from ewallet.support.staff import service as desk
from tests.fixtures.console import (
    TABLET_SIZE,
    LiveConsole,
    check_console_page,
    console_sign_in,
    open_console_page,
)
from tests.fixtures.staff import StaffLogin, events_table, insert_user
from tests.fixtures.web import PageErrors, open_page, sign_in

tickets_table = cast(Table, SupportTicket.__table__)
messages_table = cast(Table, SupportTicketMessage.__table__)
attachments_table = cast(Table, SupportAttachment.__table__)
callbacks_table = cast(Table, SupportCallback.__table__)
EN = {"Accept-Language": "en"}


# Set-up and reads on the served app's database.


def _open(
    live: LiveConsole,
    subject: str,
    *,
    user_id: str | None = None,
    priority: str = "normal",
    category: str = "payment",
    count: int = 1,
) -> list[str]:
    """``count`` tickets opened as a customer would (each through the assignment queue)."""

    owner = user_id or live.run(insert_user(live.shop.engine, live.clock))

    async def work(uow: UnitOfWork) -> list[str]:
        return [
            await tickets.open_ticket(
                live.shop.services,
                uow,
                user_id=owner,
                email=None,
                subject=subject if count == 1 else f"{subject} {n}",
                body="The shop says my payment did not arrive.",
                channel=TicketChannel.WEB,
                category=category,
                priority=priority,
                author_id=owner,
            )
            for n in range(count)
        ]

    return live.run(run_unit(live.shop.engine, work))


def _set(live: LiveConsole, ticket_ids: list[str], **values: Any) -> None:
    async def write() -> None:
        async with live.shop.engine.begin() as conn:
            await conn.execute(
                update(tickets_table).where(tickets_table.c.id.in_(ticket_ids)).values(**values)
            )

    live.run(write())


def _ticket(live: LiveConsole, ticket_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with live.shop.engine.connect() as conn:
            row = (
                await conn.execute(select(tickets_table).where(tickets_table.c.id == ticket_id))
            ).one()
        return dict(row._mapping)

    return live.run(read())


def _messages(live: LiveConsole, ticket_id: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(
                select(messages_table)
                .where(messages_table.c.ticket_id == ticket_id)
                .order_by(messages_table.c.created_at, messages_table.c.id)
            )
        return [dict(row._mapping) for row in rows]

    return live.run(read())


def _events(live: LiveConsole, action: str, *, actor_id: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with live.shop.engine.connect() as conn:
            rows = await conn.execute(
                select(events_table)
                .where(events_table.c.action == action, events_table.c.actor_id == actor_id)
                .order_by(events_table.c.id)
            )
        return [dict(row._mapping) for row in rows]

    return live.run(read())


def _count(live: LiveConsole, table: Table) -> int:
    async def read() -> int:
        async with live.shop.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(table)) or 0)

    return live.run(read())


def _rows(page: Page) -> list[str]:
    texts: list[str] = page.locator("table.queue tbody a.subject").all_inner_texts()
    return texts


def _cookies(page: Page) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}


def _csrf(page: Page) -> str:
    return str(
        page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    )


def _stub_customer_panel(page: Page) -> None:
    """The customer panel is another area's page (tests/console/test_customers.py): where a
    test is not about it, a stand-in fragment answers, so the ticket page is tested alone."""

    def answer(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            body='<p class="stub-panel">Customer summary</p>',
        )

    page.route("**/console/customers/*/panel", answer)


def _agent(live: LiveConsole, page: Page) -> StaffLogin:
    agent = live.staff("support_agent")
    console_sign_in(page, live, agent)
    return agent


# The queue.


def test_the_queue_filters_by_state_priority_sla_and_assignee(
    page: Page, live: LiveConsole
) -> None:
    agent = _agent(live, page)
    colleague = live.staff("support_agent")
    marker = new_id("q")[-6:]
    [mine] = _open(live, f"Urgent {marker}", priority="urgent", category="card")
    [theirs] = _open(live, f"Late {marker}", priority="low", category="topup")
    [waiting] = _open(live, f"Waiting {marker}")
    live.run(desk.assign(live.shop.services, Actor.system(), ticket_id=mine, assignee_id=agent.id))
    live.run(
        desk.assign(live.shop.services, Actor.system(), ticket_id=theirs, assignee_id=colleague.id)
    )
    _set(live, [waiting], assignee_id=None)
    past = live.clock.now() - timedelta(minutes=5)
    _set(live, [theirs], sla_first_response_due_at=past)

    page.goto(live.url("/console/tickets"))
    expect(page.locator("h1")).to_have_text("Tickets")
    shown = _rows(page)
    assert {f"Urgent {marker}", f"Late {marker}", f"Waiting {marker}"} <= set(shown)
    late_row = page.locator("tr", has=page.get_by_role("link", name=f"Late {marker}"))
    expect(late_row).to_have_class("row-bad")
    expect(late_row.locator(".sla")).to_contain_text("Breached: reply overdue by 5 min")
    urgent_row = page.locator("tr", has=page.get_by_role("link", name=f"Urgent {marker}"))
    expect(urgent_row.locator(".sla")).to_contain_text("Reply within 30 min")
    expect(urgent_row).to_contain_text("You")
    check_console_page(page)

    page.get_by_role("link", name="Mine").click()
    assert f"Urgent {marker}" in _rows(page)
    assert f"Late {marker}" not in _rows(page)
    assert f"Waiting {marker}" not in _rows(page)

    page.get_by_role("link", name="Unassigned").click()
    assert f"Waiting {marker}" in _rows(page)
    assert f"Urgent {marker}" not in _rows(page)

    page.get_by_role("link", name="SLA breached").click()
    assert f"Late {marker}" in _rows(page)
    assert f"Urgent {marker}" not in _rows(page)

    # The filter form: a select submits itself; the choices are kept in the form.
    page.goto(live.url("/console/tickets"))
    page.get_by_label("Priority").select_option("urgent")
    page.wait_for_url("**priority=urgent**")
    expect(page.get_by_label("Priority")).to_have_value("urgent")
    assert f"Urgent {marker}" in _rows(page)
    assert f"Late {marker}" not in _rows(page)
    page.get_by_label("Category").select_option("topup")
    page.wait_for_url("**category=topup**")
    expect(page.get_by_text("No ticket matches these filters.")).to_be_visible()
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Assigned to").select_option(colleague.id)
    page.wait_for_url(f"**assignee={colleague.id}**")
    assert _rows(page) == [f"Late {marker}"]
    page.get_by_label("State").select_option("new")
    page.wait_for_url("**status=new**")
    assert _rows(page) == [f"Late {marker}"]
    check_console_page(page)
    # Every listing is audited under the agent's name.
    assert len(_events(live, "support.tickets.listed", actor_id=agent.id)) >= 8


def test_the_queue_pages_by_fifty(page: Page, live: LiveConsole) -> None:
    agent = _agent(live, page)
    holder = live.staff("support_agent")
    marker = new_id("p")[-6:]
    opened = _open(live, f"Paged {marker}", count=51)
    _set(live, opened, assignee_id=holder.id)
    page.goto(live.url(f"/console/tickets?assignee={holder.id}"))
    assert len(_rows(page)) == 50
    assert f"Paged {marker} 50" in _rows(page)  # newest first
    page.get_by_role("link", name="Older").click()
    assert _rows(page) == [f"Paged {marker} 0"]
    assert f"assignee={holder.id}" in page.url
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    page.get_by_role("link", name="Newest").click()
    assert len(_rows(page)) == 50
    assert agent.id


# One ticket, end to end.


def test_a_ticket_answered_with_a_canned_reply_noted_assigned_and_resolved(
    browser: Browser, page: Page, page_errors: PageErrors, live: LiveConsole
) -> None:
    customer = live.customer()
    thread = live.run(
        support.open_my_ticket(
            live.shop.services,
            customer.id,
            subject="Charged but the shop says unpaid",
            body="I paid ¥30.00 at the tea shop and they say nothing arrived.",
            category="payment",
        )
    )
    ticket_id, reference = thread.ticket.id, thread.ticket.reference
    agent = _agent(live, page)
    colleague = live.staff("support_agent")
    title = f"Payment found {new_id('c')[-6:]}"
    canned = live.run(
        desk.create_canned_reply(
            live.shop.services,
            Actor("staff", agent.id),
            title=title,
            body="About {reference}: we found your payment and the shop has it now.",
            category="payment",
        )
    )

    page.goto(live.url(f"/console/tickets/{ticket_id}"))
    expect(page.locator("h1")).to_have_text("Charged but the shop says unpaid")
    expect(page.locator(".msg-customer")).to_contain_text("I paid ¥30.00 at the tea shop")
    # Beside it, the customer's panel (masked for the role; its look audited), and the
    # link to the customer's page for a browser without JavaScript.
    aside = page.locator("aside.customer")
    expect(aside.locator("#customer-panel")).to_have_attribute(
        "hx-get", f"/console/customers/{customer.id}/panel"
    )
    masked = customer.phone.removeprefix("+86")[:3] + "****" + customer.phone[-4:]
    expect(aside.locator("#customer-panel h2")).to_contain_text(masked)
    expect(aside).not_to_contain_text(customer.phone.removeprefix("+86"))
    expect(aside.locator(f"a[href='/console/customers/{customer.id}']")).to_be_visible()
    with httpx.Client(base_url=live.base_url, cookies=_cookies(page), headers=EN) as client:
        served = client.get(f"/console/tickets/{ticket_id}").text  # as a browser without JS
    assert f'href="/console/customers/{customer.id}">Open the customer' in served
    assert len(_events(live, "support.ticket.viewed", actor_id=agent.id)) == 2
    viewed = _events(live, "support.customer_viewed", actor_id=agent.id)
    assert [event["subject_id"] for event in viewed] == [customer.id]
    check_console_page(page)

    # An empty reply is refused next to the form, nothing sent.
    page.get_by_label("Your reply").fill("   ")
    page.get_by_role("button", name="Send to the customer").click()
    expect(page.locator("#reply .alert-error")).to_have_text("Write a reply before sending.")
    assert len(_messages(live, ticket_id)) == 1

    # The canned reply goes into the box, filled in for this ticket, then is sent.
    page.get_by_label("Your reply").fill("Hello. ")
    page.get_by_label("Your reply").press("End")
    page.get_by_label("Canned reply").select_option(label=title)
    page.get_by_role("button", name="Use").click()
    filled = f"Hello. About {reference}: we found your payment and the shop has it now."
    expect(page.get_by_label("Your reply")).to_have_value(filled)
    page.get_by_role("button", name="Send to the customer").click()
    expect(page.get_by_role("status")).to_have_text("Your reply was sent to the customer.")
    expect(page.locator(".msg-agent").last).to_contain_text(filled)
    assert _ticket(live, ticket_id)["status"] == "pending_customer"

    # An internal note, shown apart.
    page.get_by_label("Note for colleagues").fill("Shop confirmed by phone at 10:05.")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("status")).to_contain_text("Internal note saved")
    note = page.locator(".msg-note")
    expect(note).to_contain_text("Shop confirmed by phone at 10:05.")
    expect(note.locator(".badge")).to_have_text("Internal note")
    assert [m["internal"] for m in _messages(live, ticket_id)] == [False, False, True]

    # Assignment: to me, to a colleague, back to the queue.
    if _ticket(live, ticket_id)["assignee_id"] != agent.id:
        page.get_by_role("button", name="Assign to me").click()
        expect(page.get_by_role("status")).to_have_text("Assignment saved.")
    assert _ticket(live, ticket_id)["assignee_id"] == agent.id
    page.get_by_label("Give it to").select_option(colleague.id)
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Assignment saved.")
    assert _ticket(live, ticket_id)["assignee_id"] == colleague.id

    # State and priority; then the customer reads the answer, never the note.
    page.get_by_label("State", exact=True).select_option("resolved")
    page.get_by_label("Priority", exact=True).select_option("high")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    expect(page.locator(".ticket-head .badge").first).to_have_text("Resolved")
    row = _ticket(live, ticket_id)
    assert (row["status"], row["priority"]) == ("resolved", "high")
    updated = _events(live, "support.ticket.updated", actor_id=agent.id)
    assert updated[-1]["subject_id"] == ticket_id
    check_console_page(page)

    wallet = open_page(browser, errors=page_errors)
    try:
        sign_in(wallet, live, customer)
        wallet.goto(live.url(f"/tickets/{ticket_id}"))
        expect(wallet.locator(".thread")).to_contain_text(filled)
        expect(wallet.locator(".thread")).not_to_contain_text("Shop confirmed by phone")
    finally:
        wallet.context.close()

    # Without JavaScript, "Use" reloads the page with the text filled in.
    page.goto(live.url(f"/console/tickets/{ticket_id}?canned={canned.id}"))
    expect(page.get_by_label("Your reply")).to_have_value(
        f"About {reference}: we found your payment and the shop has it now."
    )


def test_a_closed_ticket_refuses_a_reply_inline_and_keeps_the_text(
    page: Page, live: LiveConsole
) -> None:
    [ticket_id] = _open(live, "Closed already")
    agent = _agent(live, page)
    live.run(
        desk.update(
            live.shop.services,
            Actor("staff", agent.id),
            ticket_id=ticket_id,
            status="closed",
            priority=None,
            category=None,
        )
    )
    _stub_customer_panel(page)
    page.goto(live.url(f"/console/tickets/{ticket_id}"))
    expect(page.locator("#reply")).to_contain_text("it takes internal notes only")
    expect(page.locator("#assign")).to_have_count(0)
    before = len(_messages(live, ticket_id))
    with httpx.Client(base_url=live.base_url, cookies=_cookies(page), headers=EN) as client:
        refused = client.post(
            f"/console/tickets/{ticket_id}/reply",
            data={"csrf": _csrf(page), "body": "Typed before it closed"},
        )
        assert refused.status_code == 409
        assert "This ticket is closed" in refused.text
        assert "Typed before it closed" not in refused.text  # no reply box on a closed ticket
        moved = client.post(
            f"/console/tickets/{ticket_id}/update",
            data={"csrf": _csrf(page), "status": "open"},
        )
        assert moved.status_code == 409
    assert len(_messages(live, ticket_id)) == before
    assert _ticket(live, ticket_id)["status"] == "closed"
    # A note is still taken.
    page.get_by_label("Note for colleagues").fill("Customer called again; told them.")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator(".msg-note")).to_contain_text("Customer called again")


def test_a_refused_state_change_is_said_in_chinese(browser_zh: Page, live: LiveConsole) -> None:
    [ticket_id] = _open(live, "优先级")
    console_sign_in(browser_zh, live, live.staff("support_agent"))
    _stub_customer_panel(browser_zh)
    browser_zh.goto(live.url(f"/console/tickets/{ticket_id}"))
    check_console_page(browser_zh)
    browser_zh.locator("#update button[type=submit]").click()  # nothing chosen
    expect(browser_zh.locator("#update .alert-error")).to_have_text(
        "请先选择新的状态、优先级或分类。"
    )
    assert _ticket(live, ticket_id)["priority"] == "normal"


def test_attachments_download_through_the_console(page: Page, live: LiveConsole) -> None:
    [ticket_id] = _open(live, "Receipt attached")
    [other_id] = _open(live, "Another ticket")
    [first] = _messages(live, ticket_id)
    stored, refused = new_id("att"), new_id("att")

    async def attach() -> None:
        async with live.shop.engine.begin() as conn:
            for attachment_id, content, reason in (
                (stored, b"%PDF-1.4 receipt", None),
                (refused, None, "type not allowed"),
            ):
                await conn.execute(
                    insert(attachments_table).values(
                        id=attachment_id,
                        ticket_id=ticket_id,
                        message_id=first["id"],
                        filename="receipt.pdf" if content else "tool.exe",
                        content_type="application/pdf",
                        size=16,
                        content=content,
                        rejected_reason=reason,
                        created_at=live.clock.now(),
                    )
                )

    live.run(attach())
    agent = _agent(live, page)
    _stub_customer_panel(page)
    page.goto(live.url(f"/console/tickets/{ticket_id}"))
    link = page.get_by_role("link", name="receipt.pdf")
    expect(link).to_have_attribute("href", f"/console/tickets/{ticket_id}/attachments/{stored}")
    expect(page.locator(".files")).to_contain_text("tool.exe (not kept: type not allowed)")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "receipt.pdf"
    with httpx.Client(base_url=live.base_url, cookies=_cookies(page), headers=EN) as client:
        got = client.get(f"/console/tickets/{ticket_id}/attachments/{stored}")
        assert got.content == b"%PDF-1.4 receipt"
        assert got.headers["content-disposition"] == 'attachment; filename="receipt.pdf"'
        for path in (
            f"/console/tickets/{other_id}/attachments/{stored}",  # another ticket's
            f"/console/tickets/{ticket_id}/attachments/{refused}",  # not kept
            f"/console/tickets/{ticket_id}/attachments/att_nothing",
        ):
            missing = client.get(path)
            assert missing.status_code == 404
            assert "receipt" not in missing.text
    viewed = _events(live, "support.attachment.viewed", actor_id=agent.id)
    assert len(viewed) == 2  # the click and the read above; refusals leave none


def test_an_unknown_ticket_is_a_404_page(page: Page, live: LiveConsole) -> None:
    _agent(live, page)
    response = page.goto(live.url("/console/tickets/tkt_nothing"))
    assert response is not None
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not done")
    with httpx.Client(base_url=live.base_url, cookies=_cookies(page), headers=EN) as client:
        for action, data in (
            ("reply", {"body": "hello"}),
            ("note", {"body": "hello"}),
            ("assign", {"assignee": "me"}),
            ("update", {"status": "resolved"}),
        ):
            answer = client.post(
                f"/console/tickets/tkt_nothing/{action}", data={"csrf": _csrf(page), **data}
            )
            assert answer.status_code == 404, action


# Call-backs and logged calls.


def _callback(
    live: LiveConsole, user_id: str, topic: str, *, starts_in: timedelta, minutes: int = 60
) -> str:
    callback_id = new_id("cbk")
    start = live.clock.now() + starts_in

    async def write() -> None:
        async with live.shop.engine.begin() as conn:
            await conn.execute(
                insert(callbacks_table).values(
                    id=callback_id,
                    user_id=user_id,
                    phone="+8613900007777",
                    topic=topic,
                    preferred_from=start,
                    preferred_to=start + timedelta(minutes=minutes),
                    status="requested",
                    created_at=live.clock.now(),
                    updated_at=live.clock.now(),
                )
            )

    live.run(write())
    return callback_id


def _callback_row(live: LiveConsole, callback_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with live.shop.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(callbacks_table).where(callbacks_table.c.id == callback_id)
                )
            ).one()
        return dict(row._mapping)

    return live.run(read())


def test_call_backs_due_today_are_marked_done(page: Page, live: LiveConsole) -> None:
    user_id = live.run(insert_user(live.shop.engine, live.clock))
    marker = new_id("t")[-6:]
    # The frozen clock stands at 09:00 in Shanghai (plus a few TOTP steps).
    overdue = _callback(live, user_id, f"Refund {marker}", starts_in=timedelta(hours=-3))
    later = _callback(live, user_id, f"Card {marker}", starts_in=timedelta(hours=5))
    tomorrow = _callback(live, user_id, f"Tomorrow {marker}", starts_in=timedelta(hours=20))
    agent = _agent(live, page)
    page.locator("nav.sidenav").get_by_role("link", name="Call-backs").click()
    expect(page.locator("h1")).to_have_text("Call-backs due today")
    overdue_row = page.locator(f"#cb-{overdue}")
    expect(overdue_row).to_contain_text("Overdue")
    expect(overdue_row).to_contain_text("+8613900007777")
    expect(overdue_row).to_have_class("row-bad")
    expect(page.locator(f"#cb-{later}")).to_contain_text("Later today")
    expect(page.locator(f"#cb-{tomorrow}")).to_have_count(0)
    rows = page.locator("table.callbacks tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    assert rows.index(f"cb-{overdue}") < rows.index(f"cb-{later}")
    check_console_page(page)

    overdue_row.get_by_label("What came of the call").fill("  ")
    overdue_row.get_by_role("button", name="Mark done").click()
    expect(page.locator(f"#cb-{overdue} .alert-error")).to_have_text(
        "Say what came of the call before marking it done."
    )
    assert _callback_row(live, overdue)["status"] == "requested"

    page.locator(f"#cb-{overdue}").get_by_label("What came of the call").fill(
        "Refund explained; customer satisfied."
    )
    page.locator(f"#cb-{overdue}").get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("status")).to_have_text("Marked done.")
    expect(page.locator(f"#cb-{overdue}")).to_have_count(0)
    done = _callback_row(live, overdue)
    assert (done["status"], done["outcome"], done["handled_by"]) == (
        "done",
        "Refund explained; customer satisfied.",
        agent.id,
    )
    assert len(_events(live, "support.callback_done", actor_id=agent.id)) == 1

    # Marked done twice (an old tab): refused inline, nothing changed.
    with httpx.Client(base_url=live.base_url, cookies=_cookies(page), headers=EN) as client:
        again = client.post(
            f"/console/callbacks/{overdue}/done", data={"csrf": _csrf(page), "outcome": "again"}
        )
        assert again.status_code == 409
        assert "already done or cancelled" in again.text
    assert _callback_row(live, overdue)["outcome"] == "Refund explained; customer satisfied."


def test_a_phone_call_is_logged_as_a_ticket_in_the_queue(
    page: Page, browser_zh: Page, live: LiveConsole
) -> None:
    caller = live.customer()
    agent = _agent(live, page)
    page.locator("nav.sidenav").get_by_role("link", name="Log a phone call").click()
    expect(page.locator("h1")).to_have_text("Log a phone call")
    check_console_page(page)
    tickets_before = _count(live, tickets_table)

    page.get_by_label("Caller's phone number").fill("12345")
    page.get_by_label("Category").select_option("card")
    page.get_by_label("Needs a follow-up").check()
    page.get_by_label("What the caller asked and what you did").fill("Card blocked abroad.")
    page.get_by_role("button", name="Log the call").click()
    expect(page.get_by_role("alert")).to_contain_text("phone number")
    expect(page.get_by_label("Caller's phone number")).to_have_value("12345")
    expect(page.get_by_label("Category")).to_have_value("card")
    expect(page.get_by_label("Needs a follow-up")).to_be_checked()
    expect(page.get_by_label("What the caller asked and what you did")).to_have_value(
        "Card blocked abroad."
    )
    assert _count(live, tickets_table) == tickets_before

    page.get_by_label("Caller's phone number").fill(caller.phone.removeprefix("+86"))
    page.get_by_role("button", name="Log the call").click()
    expect(page.get_by_role("status")).to_have_text("The call is logged as this ticket.")
    ticket_id = page.url.split("/console/tickets/")[1].split("?")[0]
    row = _ticket(live, ticket_id)
    assert (row["channel"], row["user_id"], row["category"]) == ("phone", caller.id, "card")
    assert len(_events(live, "support.call_logged", actor_id=agent.id)) == 1

    page.goto(live.url("/console/tickets?channel=phone"))
    expect(page.locator("table.queue")).to_contain_text("Card blocked abroad.")

    # In Chinese, the refusal is said in Chinese and the text kept.
    console_sign_in(browser_zh, live, agent, next_path="/console/calls/new")
    browser_zh.fill("#phone", "not a number")
    browser_zh.fill("#summary", "问余额")
    browser_zh.check("input[value=resolved]")
    browser_zh.click("form[action='/console/calls/new'] button[type=submit]")
    expect(browser_zh.locator(".alert-error")).to_contain_text("手机号")
    expect(browser_zh.locator("#summary")).to_have_value("问余额")


# Who may open these pages, and forms without their token.

PAGES = (
    "/console/tickets",
    "/console/tickets/{ticket_id}",
    "/console/tickets/{ticket_id}/attachments/att_x",
    "/console/callbacks",
    "/console/calls/new",
)
FORMS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/console/tickets/{ticket_id}/reply", {"body": "Not from you"}),
    ("/console/tickets/{ticket_id}/note", {"body": "Not from you"}),
    ("/console/tickets/{ticket_id}/assign", {"assignee": ""}),
    ("/console/tickets/{ticket_id}/update", {"status": "closed"}),
    ("/console/callbacks/{callback_id}/done", {"outcome": "Not from you"}),
    ("/console/calls/new", {"phone": "13900001234", "outcome": "resolved", "summary": "x"}),
)


def _untouched(live: LiveConsole, ticket_id: str, callback_id: str) -> tuple[Any, ...]:
    row = _ticket(live, ticket_id)
    return (
        len(_messages(live, ticket_id)),
        row["status"],
        row["assignee_id"],
        _callback_row(live, callback_id)["status"],
        _count(live, tickets_table),
    )


@pytest.mark.parametrize("role", ["teller", "operator"])
def test_other_roles_are_refused_every_page_and_form(
    role: str, page: Page, live: LiveConsole
) -> None:
    [ticket_id] = _open(live, "Not for tellers")
    user_id = live.run(insert_user(live.shop.engine, live.clock))
    callback_id = _callback(live, user_id, "Not for tellers", starts_in=timedelta(hours=1))
    before = _untouched(live, ticket_id, callback_id)
    console_sign_in(page, live, live.staff(role))
    ids = {"ticket_id": ticket_id, "callback_id": callback_id}
    for path in PAGES:
        response = page.goto(live.url(path.format(**ids)))
        assert response is not None
        assert response.status == 403, path
        expect(page.locator("h1")).to_have_text("Not open to your role")
        expect(page.locator("body")).not_to_contain_text("Not for tellers")
    check_console_page(page)
    with httpx.Client(base_url=live.base_url, cookies=_cookies(page), headers=EN) as client:
        for path, data in FORMS:
            answer = client.post(path.format(**ids), data={"csrf": _csrf(page), **data})
            assert answer.status_code == 403, path
    assert _untouched(live, ticket_id, callback_id) == before


def test_without_a_session_every_page_sends_to_sign_in(live: LiveConsole) -> None:
    ids = {"ticket_id": "tkt_x", "callback_id": "cbk_x"}
    with httpx.Client(base_url=live.base_url, headers=EN) as client:
        for path in PAGES:
            answer = client.get(path.format(**ids))
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/console/signin?next="), path
        for path, data in FORMS:
            answer = client.post(path.format(**ids), data=data)
            assert answer.status_code in (303, 403), path


def test_forms_without_the_token_change_nothing(page: Page, live: LiveConsole) -> None:
    [ticket_id] = _open(live, "Forged forms")
    user_id = live.run(insert_user(live.shop.engine, live.clock))
    callback_id = _callback(live, user_id, "Forged forms", starts_in=timedelta(hours=1))
    _agent(live, page)
    page.goto(live.url("/console/tickets"))
    before = _untouched(live, ticket_id, callback_id)
    ids = {"ticket_id": ticket_id, "callback_id": callback_id}
    with httpx.Client(base_url=live.base_url, cookies=_cookies(page), headers=EN) as client:
        for path, data in FORMS:
            for token in ({}, {"csrf": "forged"}):
                answer = client.post(path.format(**ids), data={**token, **data})
                assert answer.status_code == 403, path
                assert "This form has expired" in answer.text
    assert _untouched(live, ticket_id, callback_id) == before


def test_the_pages_at_tablet_size(
    browser: Browser, page_errors: PageErrors, live: LiveConsole
) -> None:
    [ticket_id] = _open(live, "Tablet view")
    tablet = open_console_page(browser, errors=page_errors, viewport=TABLET_SIZE)
    try:
        console_sign_in(tablet, live, live.staff("support_agent"))
        _stub_customer_panel(tablet)
        for path in ("/console/tickets", f"/console/tickets/{ticket_id}", "/console/callbacks"):
            tablet.goto(live.url(path))
            width = tablet.evaluate("document.documentElement.scrollWidth")
            assert width <= TABLET_SIZE["width"], f"{path} scrolls sideways ({width}px)"
            check_console_page(tablet)
    finally:
        tablet.context.close()
