"""Online chat in a browser, over the existing chat socket: the bot answers with help
articles, "talk to a person" queues the chat for an agent (who takes it and answers through
the staff socket, as an agent console would) and the customer's page shows it live; with no
agent online the hand-over becomes a ticket the customer can open; without JavaScript the
page offers a ticket and the hotline. The socket's token is minted per connection for the
browser's own session, behind the form token, and dies with the session."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Table, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ewallet.models.support import SupportTicket
from tests.conftest import BACKENDS
from tests.fixtures.accounts import TestUser
from tests.fixtures.staff import make_staff, staff_token
from tests.fixtures.web import LiveWallet, PageErrors, check_page, live_wallet_for, sign_in

tickets_table = cast(Table, SupportTicket.__table__)
WAIT = 15.0


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveWallet]:
    """The wallet with online chat switched on; the sockets' periodic re-read is a minute
    away, so every live update a test sees came through the chat bus."""
    folder = tmp_path_factory.mktemp(f"web-chat-{request.param}")
    yield from live_wallet_for(
        str(request.param),
        request,
        folder,
        support_chat_enabled=True,
        support_chat_heartbeat_seconds=60.0,
        support_chat_auth_timeout_seconds=5.0,
    )


@pytest.fixture
def no_script(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    context = browser.new_context(
        locale="en-US", viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


class AgentSocket:
    """A support agent on ``WS /v1/staff/support/chat``, as the agents' console uses it."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    def send(self, frame: dict[str, Any]) -> None:
        self.connection.send(json.dumps(frame))

    def expect(self, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(self.connection.recv(timeout=WAIT))
            if check(frame):
                return frame


@contextmanager
def agent_online(live: LiveWallet) -> Iterator[AgentSocket]:
    shop = live.shop
    login = live.run(make_staff(shop.engine, shop.security, live.clock, "support_agent"))
    token = live.run(staff_token(shop.engine, shop.security, live.settings, live.clock, login.id))
    address = live.base_url.replace("http://", "ws://") + "/v1/staff/support/chat"
    with connect(address) as connection:
        agent = AgentSocket(connection)
        agent.send({"type": "auth", "token": token})
        agent.expect(lambda f: f["type"] == "ready")
        yield agent


def _chat_ticket(live: LiveWallet, user: TestUser) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with live.shop.engine.connect() as conn:
            row = (
                await conn.execute(select(tickets_table).where(tickets_table.c.user_id == user.id))
            ).one()
        return dict(row._mapping)

    return live.run(read())


def _close_code(connection: ClientConnection) -> int | None:
    try:
        while True:
            connection.recv(timeout=WAIT)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def _line(page: Page, sender: str) -> Any:
    return page.locator(f"#chat-log li.chat-{sender}")


def test_with_no_agent_online_the_hand_over_becomes_a_ticket(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/chat"))
    expect(page.locator("#chat-state")).to_contain_text("You are chatting with our assistant")
    expect(_line(page, "bot").first).to_contain_text("Hello, I am the help bot")
    expect(page.locator("#chat-needs-script")).to_be_hidden()
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", page.content())  # no token in the page
    check_page(page)

    page.get_by_role("button", name="Talk to a person").click()
    told = _line(page, "system").filter(has_text="No agent is online right now")
    expect(told).to_contain_text("TKT-")
    expect(page.locator("#chat-state")).to_have_text("This chat has ended.")
    expect(page.get_by_label("Type your message")).to_be_disabled()
    ticket = _chat_ticket(live, user)
    assert ticket["channel"] == "chat"
    expect(told).to_contain_text(ticket["reference"])

    page.get_by_role("link", name="My support tickets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ticket["subject"])
    assert page.url == live.url(f"/tickets/{ticket['id']}")


def test_the_bot_answers_then_an_agent_takes_over_live(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    with agent_online(live) as agent:
        sign_in(page, live, user)
        page.goto(live.url("/chat"))
        expect(_line(page, "bot").first).to_be_visible()

        page.get_by_label("Type your message").fill("withdrawal fee")
        page.get_by_label("Type your message").press("Enter")
        expect(_line(page, "customer").last).to_contain_text("withdrawal fee")
        answer = _line(page, "bot").nth(1)
        suggested = answer.locator(".chat-articles a").first
        expect(suggested).to_have_text("Withdrawal fees")
        expect(suggested).to_have_attribute("href", re.compile(r"^/help/articles/"))
        answer.get_by_role("button", name="Yes, it helped").click()
        expect(answer).to_contain_text("Thank you for telling us.")
        expect(_line(page, "bot").last).to_contain_text("Glad that helped")

        page.get_by_role("button", name="Talk to a person").click()
        expect(page.locator("#chat-state")).to_have_text(
            "Waiting for an agent: you are number 1 in line."
        )
        waiting = agent.expect(
            lambda f: f["type"] == "waiting" and any(c["user_id"] == user.id for c in f["chats"])
        )
        chat_id = next(c["id"] for c in waiting["chats"] if c["user_id"] == user.id)
        agent.send({"type": "take", "chat_id": chat_id})
        agent.expect(lambda f: f["type"] == "assigned" and f["chat"]["id"] == chat_id)
        expect(page.locator("#chat-state")).to_have_text("An agent has joined the chat.")
        expect(page.get_by_role("button", name="Talk to a person")).to_be_disabled()

        agent.send(
            {"type": "message", "chat_id": chat_id, "text": "Hello, this is Li. How can I help?"}
        )
        line = _line(page, "agent").last
        expect(line).to_contain_text("Hello, this is Li. How can I help?")
        expect(line.locator(".chat-who")).to_have_text("Agent")

        page.get_by_label("Type your message").fill("My withdrawal is late.")
        page.get_by_role("button", name="Send").click()
        heard = agent.expect(lambda f: f["type"] == "message" and f["sender"] == "customer")
        assert heard["text"] == "My withdrawal is late."

        agent.send({"type": "end", "chat_id": chat_id})
        expect(page.locator("#chat-state")).to_have_text("This chat has ended.")
        expect(page.get_by_role("link", name="Start a new chat")).to_be_visible()
    assert _chat_ticket(live, user)["status"] == "resolved"


def test_the_socket_token_is_for_this_session_only(page: Page, live: LiveWallet) -> None:
    user = live.customer()
    sign_in(page, live, user)
    page.goto(live.url("/chat"))
    expect(page.locator("#chat-state")).to_contain_text("You are chatting with our assistant")
    csrf = str(page.evaluate("document.getElementById('chat').dataset.csrf"))

    refused = page.request.post(live.url("/chat/token"))  # no form token
    assert refused.status == 403
    minted = page.request.post(live.url("/chat/token"), headers={"X-CSRF-Token": csrf})
    assert minted.status == 200
    assert minted.headers["cache-control"] == "no-store"
    token = minted.json()["token"]

    # Signed out, the session is over: its token opens no chat, and no new one is minted.
    page.request.post(live.url("/signout"), form={"csrf": csrf})
    address = live.base_url.replace("http://", "ws://") + "/v1/support/chat"
    with connect(address) as connection:
        connection.send(json.dumps({"type": "auth", "token": token}))
        assert _close_code(connection) == 4401
    again = page.request.post(
        live.url("/chat/token"), headers={"X-CSRF-Token": csrf}, max_redirects=0
    )
    assert again.status == 403  # the token of a session that ended
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", again.text())


def test_without_javascript_the_chat_page_offers_other_ways(
    no_script: Page, live: LiveWallet
) -> None:
    user = live.customer()
    sign_in(no_script, live, user)
    no_script.goto(live.url("/chat"))
    expect(no_script.get_by_text("Online chat needs JavaScript.")).to_be_visible()
    expect(no_script.get_by_role("link", name="Write to us in a ticket")).to_have_attribute(
        "href", "/tickets/new"
    )
    expect(no_script.get_by_role("link", name="Call 95588")).to_have_attribute("href", "tel:95588")
    expect(no_script.locator("#chat")).to_be_hidden()
