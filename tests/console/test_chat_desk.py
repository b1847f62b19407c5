"""The live chat desk in Chromium: the queue with places, taking a chat, the bot's part of
the conversation above the agent's, answering, handing over (to an agent online or back to
the queue), ending, and the agent's status (online or away), live over the agents' chat
socket and the chat bus.

On PostgreSQL the agents' console is served by a second API server on the same database
(its own app, engine and LISTEN connection, so a wake-up reaches it only through
PostgreSQL, as it reaches another process) while the customer is served by the first; on
SQLite (one process, an in-memory bus) both are served by one. Sockets re-read the database
only once a minute here, so every live update a test sees came through the bus.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect
from sqlalchemy import Table, func, select
from tools.live_server import ServerThread, bound_listener
from websockets.sync.client import ClientConnection, connect

from ewallet.chat.bus import PostgresBus
from ewallet.chat.deps import app_chat_bus
from ewallet.models.support import SupportTicket
from ewallet.models.support_chat import SupportChat
from ewallet.support.presence.service import any_agent_online
from tests.conftest import BACKENDS
from tests.fixtures.accounts import TestUser, make_app
from tests.fixtures.console import (
    DESKTOP_SIZE,
    TABLET_SIZE,
    LiveConsole,
    as_console,
    check_console_page,
    console_sign_in,
    open_console_page,
)
from tests.fixtures.staff import StaffLogin, events_table, sessions_table, staff_token
from tests.fixtures.web import PageErrors, live_wallet_for, open_page, sign_in

tickets_table = cast(Table, SupportTicket.__table__)
chats_table = cast(Table, SupportChat.__table__)
WAIT = 15.0
CUSTOMER_SOCKET = "/v1/support/chat"
AGENT_SOCKET = "/v1/staff/support/chat"


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveConsole]:
    """The app with online chat on. The sockets' periodic re-read is a minute away, and an
    agent counts as connected for an hour of the frozen clock (each console sign-in moves
    it 30 s on)."""
    folder = tmp_path_factory.mktemp(f"chat-desk-{request.param}")
    for served in live_wallet_for(
        str(request.param),
        request,
        folder,
        support_chat_enabled=True,
        support_chat_heartbeat_seconds=60.0,
        support_chat_presence_seconds=3600.0,
        support_chat_auth_timeout_seconds=5.0,
    ):
        yield as_console(served)


@pytest.fixture(scope="module")
def desk(live: LiveConsole) -> Iterator[LiveConsole]:
    """Where the agents' console is served: on PostgreSQL a second API server on the same
    database (seeding still runs on the first, whose loop owns the shared engine); on
    SQLite the same server."""
    if live.backend != "postgresql":
        yield live
        return
    listener, base_url = bound_listener()
    server = ServerThread(make_app(live.settings, live.clock), listener)
    server.start()
    try:
        yield LiveConsole(base_url, live.shop, live.server, live.backend)
        assert isinstance(app_chat_bus(server.app), PostgresBus)
    finally:
        server.stop()


@pytest.fixture
def customer_page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """The customer's phone-sized wallet, in a browser context of its own."""
    opened = open_page(browser, errors=page_errors)
    yield opened
    opened.context.close()


@pytest.fixture
def no_script(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="en-US", viewport={"width": 1366, "height": 900}, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


class ChatSocket:
    """A JSON client socket with a patient ``expect`` (a customer's app, or an agent)."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    def send(self, frame: dict[str, Any]) -> None:
        self.connection.send(json.dumps(frame))

    def expect(self, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(self.connection.recv(timeout=WAIT))
            if check(frame):
                return frame


def _ws(base_url: str, path: str) -> str:
    return base_url.replace("http://", "ws://") + path


@contextmanager
def customer_app(live: LiveConsole, user: TestUser) -> Iterator[ChatSocket]:
    """``user`` chatting from an app on the customer socket (English)."""
    token = live.shop.security.tokens.issue(
        kind="user",
        subject=user.id,
        session_id=user.session_id,
        now=live.clock.now(),
        ttl=timedelta(hours=1),
    )
    with connect(_ws(live.base_url, CUSTOMER_SOCKET)) as connection:
        sock = ChatSocket(connection)
        sock.send({"type": "auth", "token": token, "locale": "en"})
        sock.expect(lambda f: f["type"] == "ready")
        yield sock


@contextmanager
def agent_app(
    live: LiveConsole, login: StaffLogin | None = None
) -> Iterator[tuple[StaffLogin, ChatSocket]]:
    """A support agent connected on the staff socket (until the block ends)."""
    login = login or live.staff("support_agent")
    token = _token(live, login)
    with connect(_ws(live.base_url, AGENT_SOCKET)) as connection:
        sock = ChatSocket(connection)
        sock.send({"type": "auth", "token": token})
        sock.expect(lambda f: f["type"] == "ready")
        yield login, sock


def _token(live: LiveConsole, login: StaffLogin) -> str:
    shop = live.shop
    return live.run(staff_token(shop.engine, shop.security, live.settings, live.clock, login.id))


def ask_for_agent(sock: ChatSocket) -> str:
    """The customer asks for a person; the id of the chat, now waiting."""
    sock.send({"type": "handover"})
    state = sock.expect(lambda f: f["type"] == "state")
    assert state["chat"]["status"] == "queued", state
    return str(state["chat"]["id"])


def open_desk(page: Page, live: LiveConsole, login: StaffLogin | None = None) -> StaffLogin:
    """A support agent signed in at the desk, connected and shown online."""
    login = login or live.staff("support_agent")
    console_sign_in(page, live, login, next_path="/console/chats")
    expect(page.locator("h1")).to_have_text("Live chat")
    expect(page.locator("#desk-state")).to_have_text("Connected")
    expect(page.locator("#desk-agents")).to_contain_text(login.email)
    expect(page.locator("#desk-online")).to_have_attribute("aria-pressed", "true")
    return login


def queued(page: Page, chat_id: str) -> Any:
    return page.locator(f"#desk-queue li[data-chat-id='{chat_id}']")


def _row(live: LiveConsole, table: Table, **where: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        statement = select(table)
        for name, value in where.items():
            statement = statement.where(table.c[name] == value)
        async with live.shop.engine.connect() as conn:
            return dict((await conn.execute(statement)).one()._mapping)

    return live.run(read())


def _count(live: LiveConsole, table: Table, **where: str) -> int:
    async def read() -> int:
        statement = select(func.count()).select_from(table)
        for name, value in where.items():
            statement = statement.where(table.c[name] == value)
        async with live.shop.engine.connect() as conn:
            return int((await conn.execute(statement)).scalar_one())

    return live.run(read())


def test_a_web_customer_and_the_desk_chat_across_two_api_servers(
    page: Page, customer_page: Page, live: LiveConsole, desk: LiveConsole
) -> None:
    if live.backend == "postgresql":
        assert desk.base_url != live.base_url
        assert isinstance(app_chat_bus(live.shop.app), PostgresBus)
    agent = open_desk(page, desk)
    expect(page.locator("#desk-queue-empty")).to_be_visible()
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", page.content())  # no token in the page
    check_console_page(page)

    # The customer, on the first server, asks the assistant and then for a person.
    user = live.customer()
    sign_in(customer_page, live, user)
    customer_page.goto(live.url("/chat"))
    composer = customer_page.get_by_label("Type your message")
    composer.fill("withdrawal fee")
    composer.press("Enter")
    expect(customer_page.locator("#chat-log li.chat-bot")).to_have_count(2)
    customer_page.get_by_role("button", name="Talk to a person").click()
    expect(customer_page.locator("#chat-state")).to_have_text(
        "Waiting for an agent: you are number 1 in line."
    )
    chat_id = _row(live, chats_table, user_id=user.id)["id"]

    # The desk, on the second server, sees them waiting first in line, and takes the chat.
    waiting = queued(page, chat_id)
    expect(waiting).to_contain_text("No. 1")
    expect(waiting).to_contain_text("withdrawal fee")
    expect(page.locator("#desk-queue-count")).to_have_text("1")
    waiting.get_by_role("button").click()
    expect(page.locator("#desk-chat-heading")).to_have_text(f"Customer {user.id}")
    expect(queued(page, chat_id)).to_have_count(0)
    # The customer's time with the assistant above, the hand-over and the agent below.
    bot_part = page.locator("#desk-bot-log")
    expect(bot_part.locator("li.desk-bot").first).to_contain_text("Hello, I am the help bot")
    expect(bot_part.locator("li.desk-customer .desk-text")).to_have_text("withdrawal fee")
    expect(bot_part.locator("li.desk-bot").last).to_contain_text("Withdrawal fees")
    expect(page.locator("#desk-log")).to_contain_text("Connecting you to an agent")
    expect(page.locator("#desk-log li.desk-system .desk-text").last).to_have_text(
        "An agent has joined the chat."
    )
    expect(customer_page.locator("#chat-state")).to_have_text("An agent has joined the chat.")

    # Messages both ways: Enter sends.
    answer = page.get_by_label("Your answer")
    answer.fill("Hello, this is the desk. Let me look at your withdrawal.")
    answer.press("Enter")
    expect(answer).to_have_value("")
    expect(page.locator("#desk-log li.desk-agent.mine")).to_contain_text("Let me look")
    expect(customer_page.locator("#chat-log li.chat-agent")).to_contain_text("Let me look")
    composer.fill("It was sent on Monday.")
    composer.press("Enter")
    expect(page.locator("#desk-log li.desk-customer .desk-text")).to_have_text(
        "It was sent on Monday."
    )
    check_console_page(page)

    # The agent ends the chat: both sides see it, the ticket is resolved under the agent.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="End chat").click()
    expect(page.locator("#desk-ended-text")).to_have_text("This chat has ended.")
    expect(page.locator("#desk-mine .desk-tab")).to_contain_text("Closed")
    expect(customer_page.locator("#chat-state")).to_have_text("This chat has ended.")
    chat = _row(live, chats_table, id=chat_id)
    assert chat["status"] == "closed"
    assert chat["closed_by"] == "agent"
    assert chat["agent_id"] == agent.id
    ticket = _row(live, tickets_table, id=chat["ticket_id"])
    assert ticket["status"] == "resolved"
    assert ticket["assignee_id"] == agent.id
    page.get_by_role("button", name="Close this chat").click()
    expect(page.locator("#desk-mine-empty")).to_be_visible()

    # The transcript, read later, is audit-logged.
    page.goto(desk.url(f"/console/chats/{chat_id}"))
    expect(page.locator("h1")).to_have_text("Chat transcript")
    expect(page.locator(".desk-log-page")).to_contain_text("It was sent on Monday.")
    expect(page.locator(".kv")).to_contain_text(ticket["id"])
    assert _count(live, events_table, action="support.chat_viewed", actor_id=agent.id) == 1
    check_console_page(page)


def test_an_agent_hands_a_chat_to_a_colleague_and_back_to_the_queue(
    page: Page, second_page: Page, live: LiveConsole, desk: LiveConsole
) -> None:
    first = open_desk(page, desk)
    second = open_desk(second_page, live)  # on PostgreSQL, on the other server
    expect(page.locator("#desk-agents")).to_contain_text(second.email)
    user = live.customer()
    with customer_app(live, user) as customer:
        chat_id = ask_for_agent(customer)
        queued(page, chat_id).get_by_role("button").click()
        expect(page.locator("#desk-chat-heading")).to_contain_text(user.id)
        customer.expect(lambda f: f["type"] == "state" and f["chat"]["status"] == "active")

        # To the colleague: they get it with its history, the first agent no longer has it.
        page.get_by_label("Hand over to").select_option(label=second.email)
        page.get_by_role("button", name="Hand over", exact=True).click()
        expect(page.locator("#desk-state")).to_have_text("The chat is now with another agent.")
        expect(page.locator("#desk-mine-empty")).to_be_visible()
        expect(second_page.locator("#desk-chat-heading")).to_contain_text(user.id)
        expect(second_page.locator("#desk-bot-log")).to_contain_text("Hello, I am the help bot")
        expect(second_page.locator("#desk-log")).to_contain_text(
            "You are being passed to another agent"
        )
        told = customer.expect(lambda f: f["type"] == "message" and f["sender"] == "system")
        assert "another agent" in told["text"]
        second_page.get_by_label("Your answer").fill("I am taking over from my colleague.")
        second_page.get_by_label("Your answer").press("Enter")
        said = customer.expect(lambda f: f["type"] == "message" and f["sender"] == "agent")
        assert said["text"] == "I am taking over from my colleague."

        # Back to the queue: first in line again, offered to both.
        second_page.get_by_label("Hand over to").select_option(label="Back to the queue")
        second_page.get_by_role("button", name="Hand over", exact=True).click()
        expect(second_page.locator("#desk-state")).to_have_text("The chat is back in the queue.")
        back = customer.expect(lambda f: f["type"] == "state")
        assert back["chat"]["status"] == "queued"
        assert back["chat"]["queue_position"] == 1
        expect(queued(page, chat_id)).to_contain_text("No. 1")
        expect(queued(second_page, chat_id)).to_be_visible()
        queued(page, chat_id).get_by_role("button").click()
        expect(page.locator("#desk-log")).to_contain_text("I am taking over from my colleague.")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="End chat").click()
        customer.expect(lambda f: f["type"] == "ended")
    chat = _row(live, chats_table, id=chat_id)
    assert chat["agent_id"] == first.id
    assert _row(live, tickets_table, id=chat["ticket_id"])["status"] == "resolved"
    handed = _count(live, events_table, action="support.chat_handed_over", subject_id=user.id)
    assert handed == 2


def test_someone_faster_takes_the_chat_first(
    page: Page, live: LiveConsole, desk: LiveConsole
) -> None:
    # The desk's queue is held still (its "waiting" updates dropped) so its Take button
    # is pressed on a chat another agent has just taken: the desk says so.
    hold = {"queue": False}

    def relay(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def to_page(message: str | bytes) -> None:
            if hold["queue"] and json.loads(message).get("type") == "waiting":
                return
            socket.send(message)

        socket.on_message(server.send)
        server.on_message(to_page)

    page.route_web_socket(re.compile(r".*/v1/staff/support/chat$"), relay)
    open_desk(page, desk)
    user = live.customer()
    with customer_app(live, user) as customer, agent_app(live) as (faster, _):
        chat_id = ask_for_agent(customer)
        expect(queued(page, chat_id)).to_be_visible()
        hold["queue"] = True
        took = httpx.post(
            live.url(f"/v1/staff/support/chats/{chat_id}/take"),
            headers={"Authorization": f"Bearer {_token(live, faster)}"},
        )
        assert took.status_code == 200, took.text
        queued(page, chat_id).get_by_role("button").click()
        expect(page.locator("#desk-notice")).to_have_text("Another agent took this chat first.")
        expect(page.locator("#desk-none")).to_be_visible()
        assert _row(live, chats_table, id=chat_id)["agent_id"] == faster.id


def test_an_agent_away_is_offered_no_chats(
    page: Page, live: LiveConsole, desk: LiveConsole
) -> None:
    agent = open_desk(page, desk)
    # Agents of earlier tests have left: this one is the only agent connected.
    expect(page.locator("#desk-agents li")).to_have_count(1)
    with customer_app(live, live.customer()) as waiting_customer:
        chat_id = ask_for_agent(waiting_customer)
        expect(queued(page, chat_id)).to_be_visible()

        # Away as the last agent online: the waiting chat becomes a ticket, as if nobody
        # were connected, and the desk offers nothing while the agent stays connected.
        page.get_by_role("button", name="Away").click()
        expect(page.locator("#desk-away")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#desk-status")).to_contain_text("You are away")
        expect(page.locator("#desk-agents li")).to_contain_text("Away")
        expect(page.locator("#desk-queue-empty")).to_have_text(
            "The queue is hidden while you are away."
        )
        told = waiting_customer.expect(
            lambda f: f["type"] == "message" and "No agent is online" in f["text"]
        )
        assert "TKT-" in told["text"]
        waiting_customer.expect(lambda f: f["type"] == "ended")
    assert _row(live, chats_table, id=chat_id)["agent_id"] is None
    assert (
        _row(live, tickets_table, id=_row(live, chats_table, id=chat_id)["ticket_id"])["status"]
        == "new"
    )

    with customer_app(live, live.customer()) as late:
        late.send({"type": "handover"})
        late.expect(lambda f: f["type"] == "message" and "No agent is online" in f["text"])
    check_console_page(page)

    # Back online: new chats are offered again.
    page.get_by_role("button", name="Online").click()
    expect(page.locator("#desk-status")).to_contain_text("You are online")
    with customer_app(live, live.customer()) as next_customer:
        chat_id = ask_for_agent(next_customer)
        expect(queued(page, chat_id)).to_contain_text("No. 1")
        queued(page, chat_id).get_by_role("button").click()
        next_customer.expect(lambda f: f["type"] == "state" and f["chat"]["status"] == "active")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="End chat").click()
        next_customer.expect(lambda f: f["type"] == "ended")
    assert _row(live, chats_table, id=chat_id)["agent_id"] == agent.id


def test_the_socket_token_is_this_sessions_behind_the_form_token(
    page: Page, live: LiveConsole
) -> None:
    agent = open_desk(page, live)
    csrf = str(page.evaluate("document.getElementById('desk').dataset.csrf"))
    refused = page.request.post(live.url("/console/chats/token"), max_redirects=0)
    assert refused.status == 403
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", refused.text())
    minted = page.request.post(live.url("/console/chats/token"), headers={"X-CSRF-Token": csrf})
    assert minted.status == 200
    assert minted.headers["cache-control"] == "no-store"
    token = minted.json()["token"]
    claims = live.shop.security.tokens.verify(token, kind="staff", now=live.clock.now())
    assert claims.subject == agent.id
    # The cookie's own session, not a new one.
    assert _count(live, sessions_table, staff_id=agent.id) == 1
    assert _row(live, sessions_table, staff_id=agent.id)["id"] == claims.session_id
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(live.url("/v1/staff/support/chats"), headers=bearer).status_code == 200

    # Signed out, the token dies with the session, and no new one is minted.
    page.click("form[action='/console/signout'] button")
    page.wait_for_load_state()
    assert httpx.get(live.url("/v1/staff/support/chats"), headers=bearer).status_code == 401
    again = page.request.post(
        live.url("/console/chats/token"), headers={"X-CSRF-Token": csrf}, max_redirects=0
    )
    assert again.status in (303, 403)
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", again.text())


def test_the_desk_is_for_support_agents_only(page: Page, live: LiveConsole) -> None:
    page.goto(live.url("/console/chats"))
    assert "/console/signin?next=" in page.url
    anonymous = page.request.post(live.url("/console/chats/token"), max_redirects=0)
    assert anonymous.status == 303
    assert "/console/signin" in anonymous.headers["location"]

    user = live.customer()
    with customer_app(live, user) as customer:
        customer.send({"type": "message", "text": "hello"})
        customer.expect(lambda f: f["type"] == "message" and f["sender"] == "bot")
    chat_id = _row(live, chats_table, user_id=user.id)["id"]

    teller = live.staff("teller")
    console_sign_in(page, live, teller)
    csrf = str(
        page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    )
    for path in ("/console/chats", f"/console/chats/{chat_id}"):
        response = page.goto(live.url(path))
        assert response is not None
        assert response.status == 403, path
        expect(page.locator("h1")).to_have_text("Not open to your role")
        expect(page.locator("main")).not_to_contain_text("hello")
    token = page.request.post(live.url("/console/chats/token"), headers={"X-CSRF-Token": csrf})
    assert token.status == 403
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", token.text())
    assert _count(live, events_table, action="support.chat_viewed", actor_id=teller.id) == 0

    page.context.clear_cookies()
    agent = live.staff("support_agent")
    console_sign_in(page, live, agent)
    missing = page.goto(live.url("/console/chats/chat_doesnotexist"))
    assert missing is not None
    assert missing.status == 404
    assert _count(live, events_table, action="support.chat_viewed", actor_id=agent.id) == 0


def test_without_javascript_the_desk_lists_the_queue(
    no_script: Page, browser: Browser, live: LiveConsole, desk: LiveConsole
) -> None:
    user = live.customer()
    with agent_app(live) as (online, _), customer_app(live, user) as customer:
        customer.send({"type": "message", "text": "my top-up is missing"})
        customer.expect(lambda f: f["type"] == "message" and f["sender"] == "bot")
        chat_id = ask_for_agent(customer)
        agent = live.staff("support_agent")
        console_sign_in(no_script, desk, agent, next_path="/console/chats")
        expect(no_script.get_by_text("The live chat desk needs JavaScript.")).to_be_visible()
        expect(no_script.locator("#desk")).to_be_hidden()
        row = no_script.locator("#desk-needs-script tbody tr").filter(has_text=user.id)
        expect(row).to_contain_text("my top-up is missing")
        expect(no_script.locator("#desk-needs-script")).to_contain_text(online.email)
        # The same page in a browser whose script did not load, checked by axe (which
        # needs JavaScript itself).
        context = browser.new_context(locale="en-US", viewport=DESKTOP_SIZE)
        try:
            unscripted = context.new_page()
            unscripted.route(re.compile(r".*/static/console/chats\.js.*"), lambda r: r.abort())
            console_sign_in(unscripted, desk, agent, next_path="/console/chats")
            expect(unscripted.locator("#desk-needs-script")).to_contain_text(user.id)
            check_console_page(unscripted)
        finally:
            context.close()
        customer.send({"type": "end"})
        customer.expect(lambda f: f["type"] == "ended")
    assert _row(live, chats_table, id=chat_id)["status"] == "closed"


def test_the_hand_over_route_is_for_the_agent_holding_the_chat(live: LiveConsole) -> None:
    user = live.customer()
    holder, other, teller = (
        live.staff("support_agent"),
        live.staff("support_agent"),
        live.staff("teller"),
    )
    with customer_app(live, user) as customer, agent_app(live) as (online, _):
        chat_id = ask_for_agent(customer)
        route = live.url(f"/v1/staff/support/chats/{chat_id}/handover")
        as_holder = {"Authorization": f"Bearer {_token(live, holder)}"}
        assert httpx.post(
            live.url(f"/v1/staff/support/chats/{chat_id}/take"), headers=as_holder
        ).is_success
        customer.expect(lambda f: f["type"] == "state" and f["chat"]["status"] == "active")

        assert httpx.post(route, json={}).status_code == 401
        as_teller = {"Authorization": f"Bearer {_token(live, teller)}"}
        assert httpx.post(route, json={}, headers=as_teller).status_code == 403
        as_other = {"Authorization": f"Bearer {_token(live, other)}"}
        not_theirs = httpx.post(route, json={"to_staff_id": other.id}, headers=as_other)
        assert not_theirs.status_code == 404
        assert user.id not in not_theirs.text
        # Only an agent connected and online can be given the chat (not an offline one).
        offline = httpx.post(route, json={"to_staff_id": other.id}, headers=as_holder)
        assert offline.status_code == 422
        assert offline.json()["code"] == "agent_not_available"
        assert _row(live, chats_table, id=chat_id)["agent_id"] == holder.id

        given = httpx.post(route, json={"to_staff_id": online.id}, headers=as_holder)
        assert given.status_code == 200, given.text
        assert given.json()["agent_id"] == online.id
        assert given.json()["status"] == "active"
        back = httpx.post(route, json={}, headers=as_holder)
        assert back.status_code == 404  # no longer the holder's
        assert (
            _count(live, events_table, action="support.chat_handed_over", subject_id=user.id) == 1
        )
        customer.send({"type": "end"})
        customer.expect(lambda f: f["type"] == "ended")
    closed = httpx.post(route, json={}, headers=as_holder)
    assert closed.status_code == 404


def test_away_holds_on_every_socket_of_the_agent(live: LiveConsole) -> None:
    with agent_app(live) as (login, first):
        first.expect(lambda f: f["type"] == "presence" and f["status"] == "online")
        first.send({"type": "presence", "status": "asleep"})
        assert first.expect(lambda f: f["type"] == "error")["code"] == "validation_error"
        first.send({"type": "presence", "status": "away"})
        first.expect(lambda f: f["type"] == "waiting" and f["away"] and f["chats"] == [])
        with agent_app(live, login) as (_, second):
            seen = second.expect(lambda f: f["type"] == "presence")
            assert seen["status"] == "away"
            me = [a for a in seen["agents"] if a["staff_id"] == login.id]
            assert me == [{"staff_id": login.id, "name": login.email, "status": "away"}]
            assert second.expect(lambda f: f["type"] == "waiting")["away"] is True
            assert not live.run(any_agent_online(live.shop.services))
            second.send({"type": "presence", "status": "online"})
            first.expect(lambda f: f["type"] == "presence" and f["status"] == "online")
            assert live.run(any_agent_online(live.shop.services))


def test_a_chat_handed_back_with_nobody_online_becomes_a_ticket(live: LiveConsole) -> None:
    holder = live.staff("support_agent")
    as_holder = {"Authorization": f"Bearer {_token(live, holder)}"}
    user = live.customer()
    with customer_app(live, user) as customer:
        with agent_app(live):
            chat_id = ask_for_agent(customer)
            took = httpx.post(
                live.url(f"/v1/staff/support/chats/{chat_id}/take"), headers=as_holder
            )
            assert took.status_code == 200, took.text
            customer.expect(lambda f: f["type"] == "state" and f["chat"]["status"] == "active")
        # The only agent connected has left (the holder answers without a socket).
        for _ in range(100):
            if not live.run(any_agent_online(live.shop.services)):
                break
            time.sleep(0.05)
        back = httpx.post(
            live.url(f"/v1/staff/support/chats/{chat_id}/handover"), json={}, headers=as_holder
        )
        assert back.status_code == 200, back.text
        assert back.json()["status"] == "closed"
        told = customer.expect(
            lambda f: f["type"] == "message" and "No agent is online" in f["text"]
        )
        assert "TKT-" in told["text"]
        customer.expect(lambda f: f["type"] == "ended")
    chat = _row(live, chats_table, id=chat_id)
    assert chat["agent_id"] is None
    assert _row(live, tickets_table, id=chat["ticket_id"])["status"] == "new"


def test_the_desk_on_a_tablet(browser: Browser, page_errors: PageErrors, live: LiveConsole) -> None:
    tablet = open_console_page(browser, errors=page_errors, viewport=TABLET_SIZE)
    try:
        open_desk(tablet, live)
        expect(tablet.locator("#desk-queue-empty")).to_be_visible()
        check_console_page(tablet)
    finally:
        tablet.context.close()
