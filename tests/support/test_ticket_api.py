"""The customer and staff ticket APIs over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table

from ewallet.models.identity import Notification
from tests.fixtures.accounts import assert_problem
from tests.fixtures.staff import audit_actions
from tests.support.conftest import (
    Harness,
    count,
    mail_events,
    make_agent,
    messages_of,
    outbox_table,
    tickets_table,
)

notifications = cast(Table, Notification.__table__)
NEW = {"subject": "提现失败", "body": "提现到银行卡失败了，钱去哪了？", "category": "withdrawal"}


async def _open(harness: Harness, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await harness.client.post(
        "/v1/support/tickets", json={**NEW, **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def test_customer_ticket_flow_with_staff_reply_note_and_rating(harness: Harness) -> None:
    client = harness.client
    agent = await make_agent(harness.engine, harness.settings, harness.clock)
    user = await harness.user()
    me = harness.auth(user)

    ticket = await _open(harness, me)
    assert ticket["status"] == "new"
    assert ticket["category"] == "withdrawal"
    assert ticket["channel"] == "api"
    assert ticket["reference"].startswith("TKT-")
    assert [m["author_type"] for m in ticket["messages"]] == ["customer"]
    assert "assignee_id" not in ticket
    assert ticket["can_rate"] is False

    path = f"/v1/staff/support/tickets/{ticket['id']}"
    note = await client.post(f"{path}/notes", json={"body": "疑似银行退票"}, headers=agent.headers)
    assert note.status_code == 201, note.text
    reply = await client.post(
        f"{path}/replies", json={"body": "已查到，正在退回"}, headers=agent.headers
    )
    assert reply.status_code == 201, reply.text
    staff_view = reply.json()
    assert staff_view["status"] == "pending_customer"
    assert staff_view["assignee_id"] == agent.id
    assert [m["internal"] for m in staff_view["messages"]] == [False, True, False]
    assert staff_view["sla_first_response_breached"] is False

    # The customer never sees the internal note, in the ticket or in the list.
    mine = (await client.get(f"/v1/support/tickets/{ticket['id']}", headers=me)).json()
    assert [m["body"] for m in mine["messages"]] == [NEW["body"], "已查到，正在退回"]
    assert "疑似银行退票" not in str((await client.get("/v1/support/tickets", headers=me)).json())
    assert (
        await count(
            harness.engine,
            notifications,
            notifications.c.kind == "support_ticket_replied",
        )
        == 1
    )

    answer = await client.post(
        f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "好的谢谢"}, headers=me
    )
    assert answer.status_code == 201
    assert answer.json()["author_type"] == "customer"

    early = await client.post(
        f"/v1/support/tickets/{ticket['id']}/rating", json={"rating": 5}, headers=me
    )
    assert_problem(early, 409, "ticket_not_resolved")
    resolved = await client.patch(path, json={"status": "resolved"}, headers=agent.headers)
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    rated = await client.post(
        f"/v1/support/tickets/{ticket['id']}/rating",
        json={"rating": 4, "comment": "还行"},
        headers=me,
    )
    assert rated.status_code == 200, rated.text
    assert (rated.json()["rating"], rated.json()["can_rate"]) == (4, False)
    again = await client.post(
        f"/v1/support/tickets/{ticket['id']}/rating", json={"rating": 1}, headers=me
    )
    assert_problem(again, 409, "ticket_already_rated")

    actions = [a for a, actor, _ in await audit_actions(harness.engine) if actor == agent.id]
    assert actions == ["support.ticket.noted", "support.ticket.replied", "support.ticket.updated"]
    viewed = await client.get(path, headers=agent.headers)
    assert viewed.status_code == 200
    assert (await audit_actions(harness.engine))[-1] == (
        "support.ticket.viewed",
        agent.id,
        ticket["id"],
    )


async def test_customers_see_and_write_only_their_own_tickets(harness: Harness) -> None:
    client = harness.client
    owner = await harness.user()
    other = await harness.user(phone="+8613912345678")
    ticket = await _open(harness, harness.auth(owner))
    before = await harness.snapshot(other)
    rows_before = await count(harness.engine, tickets_table)
    messages_before = len(await messages_of(harness.engine, ticket["id"]))

    them = harness.auth(other)
    base = f"/v1/support/tickets/{ticket['id']}"
    assert_problem(await client.get(base, headers=them), 404, "not_found")
    assert_problem(
        await client.post(f"{base}/messages", json={"body": "hi"}, headers=them), 404, "not_found"
    )
    assert_problem(
        await client.post(f"{base}/rating", json={"rating": 1}, headers=them), 404, "not_found"
    )
    assert (await client.get("/v1/support/tickets", headers=them)).json()["items"] == []
    for method, url in [
        ("GET", "/v1/support/tickets"),
        ("POST", "/v1/support/tickets"),
        ("GET", base),
        ("POST", f"{base}/messages"),
    ]:
        response = await client.request(method, url, json=NEW)
        assert_problem(response, 401, "unauthorized")
    assert await harness.snapshot(other) == before
    assert await count(harness.engine, tickets_table) == rows_before
    assert len(await messages_of(harness.engine, ticket["id"])) == messages_before


async def test_list_paginates_newest_first(harness: Harness) -> None:
    user = await harness.user()
    me = harness.auth(user)
    made = [(await _open(harness, me, subject=f"问题 {n}"))["id"] for n in range(3)]
    first = (await harness.client.get("/v1/support/tickets?limit=2", headers=me)).json()
    assert [t["id"] for t in first["items"]] == made[::-1][:2]
    second = (
        await harness.client.get(
            f"/v1/support/tickets?limit=2&cursor={first['next_cursor']}", headers=me
        )
    ).json()
    assert [t["id"] for t in second["items"]] == [made[0]]
    assert second["next_cursor"] is None


async def test_staff_queue_filters_assignment_and_roles(harness: Harness) -> None:
    client = harness.client
    agent = await make_agent(harness.engine, harness.settings, harness.clock)
    teller = await make_agent(harness.engine, harness.settings, harness.clock, role="teller")
    user = await harness.user()
    ticket = await _open(harness, harness.auth(user))
    queue = await client.get("/v1/staff/support/tickets?assignee=me", headers=agent.headers)
    assert [t["id"] for t in queue.json()["items"]] == [ticket["id"]]
    assert (
        await client.get("/v1/staff/support/tickets?assignee=none", headers=agent.headers)
    ).json()["items"] == []
    assert (
        await client.get("/v1/staff/support/tickets?breached=true", headers=agent.headers)
    ).json()["items"] == []
    assert_problem(
        await client.get("/v1/staff/support/tickets", headers=teller.headers), 403, "forbidden"
    )
    assert_problem(
        await client.get(f"/v1/staff/support/tickets/{ticket['id']}", headers=harness.auth(user)),
        401,
        "unauthorized",
    )
    path = f"/v1/staff/support/tickets/{ticket['id']}"
    back = await client.put(f"{path}/assignee", json={"assignee_id": None}, headers=agent.headers)
    # Returned to the queue, it is dispatched again at once to the only agent with room.
    assert back.status_code == 200
    assert back.json()["assignee_id"] == agent.id
    bad = await client.put(
        f"{path}/assignee", json={"assignee_id": teller.id}, headers=agent.headers
    )
    assert_problem(bad, 422, "agent_not_available")
    changed = await client.patch(
        path, json={"priority": "urgent", "category": "complaint"}, headers=agent.headers
    )
    assert (changed.json()["priority"], changed.json()["category"]) == ("urgent", "complaint")
    assert_problem(
        await client.patch(path, json={}, headers=agent.headers), 422, "validation_error"
    )
    assert_problem(
        await client.get("/v1/staff/support/tickets/tkt_nope", headers=agent.headers),
        404,
        "not_found",
    )


async def test_canned_replies_crud_and_use(harness: Harness) -> None:
    client = harness.client
    agent = await make_agent(harness.engine, harness.settings, harness.clock)
    user = await harness.user()
    ticket = await _open(harness, harness.auth(user))
    created = await client.post(
        "/v1/staff/support/canned-replies",
        json={
            "title": "提现退回",
            "body": "工单 {reference}：款项已退回余额。",
            "category": "withdrawal",
        },
        headers=agent.headers,
    )
    assert created.status_code == 201, created.text
    reply_id = created.json()["id"]
    edited = await client.put(
        f"/v1/staff/support/canned-replies/{reply_id}",
        json={"title": "提现退回", "body": "工单 {reference}（{subject}）：款项已退回。"},
        headers=agent.headers,
    )
    assert edited.json()["category"] is None
    listed = await client.get(
        "/v1/staff/support/canned-replies?category=card", headers=agent.headers
    )
    assert [r["id"] for r in listed.json()["items"]] == [reply_id]  # general ones always show
    used = await client.post(
        f"/v1/staff/support/tickets/{ticket['id']}/replies",
        json={"canned_reply_id": reply_id},
        headers=agent.headers,
    )
    assert used.json()["messages"][-1]["body"] == (
        f"工单 {ticket['reference']}（提现失败）：款项已退回。"
    )
    deleted = await client.delete(
        f"/v1/staff/support/canned-replies/{reply_id}", headers=agent.headers
    )
    assert deleted.status_code == 204
    assert (await client.get("/v1/staff/support/canned-replies", headers=agent.headers)).json()[
        "items"
    ] == []


async def test_customer_email_is_proven_by_a_mailed_code(harness: Harness) -> None:
    client = harness.client
    user = await harness.user()
    me = harness.auth(user)
    claimed = await client.put("/v1/support/email", json={"email": "Me@Example.com"}, headers=me)
    assert claimed.status_code == 202
    assert claimed.json() == {
        "email": "me@example.com",
        "verified": False,
    }
    mail = (await mail_events(harness.engine))[-1]
    code = mail["text"].split("验证码是 ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    assert_problem(
        await client.post("/v1/support/email/verify", json={"code": wrong}, headers=me),
        400,
        "support_email_code_invalid",
    )
    # A wrong code spends the code: the right one no longer works either.
    assert_problem(
        await client.post("/v1/support/email/verify", json={"code": code}, headers=me),
        400,
        "support_email_code_invalid",
    )
    await client.put("/v1/support/email", json={"email": "me@example.com"}, headers=me)
    code = (await mail_events(harness.engine))[-1]["text"].split("验证码是 ")[1][:6]
    proven = await client.post("/v1/support/email/verify", json={"code": code}, headers=me)
    assert proven.json() == {"email": "me@example.com", "verified": True}
    assert (await client.get("/v1/support/email", headers=me)).json()["verified"] is True
    assert await count(harness.engine, outbox_table, outbox_table.c.topic == "email.send") == 2
