"""Call-back requests (customers), the due list and phone calls (agents)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, func, select

from ewallet.models.support import SupportTicket
from ewallet.models.support_chat import SupportCallback
from tests.fixtures.chat import ChatWorld, client, live

callbacks = cast(Table, SupportCallback.__table__)
tickets = cast(Table, SupportTicket.__table__)


def window(world: ChatWorld, start_hours: float, minutes: int = 60) -> dict[str, str]:
    start = world.clock.now() + timedelta(hours=start_hours)
    return {
        "preferred_from": start.isoformat(),
        "preferred_to": (start + timedelta(minutes=minutes)).isoformat(),
        "topic": "提现未到账",
    }


async def _count(world: ChatWorld) -> int:
    async with world.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(callbacks)) or 0)


async def test_request_list_cancel_and_agent_marks_done(world: ChatWorld) -> None:
    _, token = await world.customer(phone="+8613912345678")
    _, other = await world.customer()
    _, agent = await world.agent()
    async with live(world.app()) as address:
        async with client(address, token) as http:
            made = await http.post("/v1/support/callbacks", json=window(world, 2))
            assert made.status_code == 201, made.text
            callback: dict[str, Any] = made.json()["callback"]
            assert callback["phone"] == "139****5678"
            assert callback["status"] == "requested"
            listed = await http.get("/v1/support/callbacks")
            assert [c["id"] for c in listed.json()["items"]] == [callback["id"]]
            second = await http.post("/v1/support/callbacks", json=window(world, 30))
        async with client(address, other) as http:
            assert (await http.get("/v1/support/callbacks")).json()["items"] == []
            stolen = await http.post(f"/v1/support/callbacks/{callback['id']}/cancel")
            assert stolen.status_code == 404
        async with client(address, agent) as http:
            due = await http.get("/v1/staff/support/callbacks", params={"within_minutes": 180})
            items = due.json()["items"]
            assert [c["id"] for c in items] == [callback["id"]]  # the one in 30 h is not due
            assert items[0]["phone"] == "+8613912345678"  # the agent must dial it
            done = await http.post(
                f"/v1/staff/support/callbacks/{callback['id']}/done",
                json={"outcome": "called, explained the delay"},
            )
            assert done.json()["status"] == "done"
        async with client(address, token) as http:
            late = await http.post(f"/v1/support/callbacks/{callback['id']}/cancel")
            assert late.status_code == 409
            assert late.json()["code"] == "callback_not_open"
            cancelled = await http.post(
                f"/v1/support/callbacks/{second.json()['callback']['id']}/cancel"
            )
            assert cancelled.json()["callback"]["status"] == "cancelled"
        async with client(address) as anonymous:
            assert (await anonymous.get("/v1/support/callbacks")).status_code == 401


@pytest.mark.parametrize(
    ("start_hours", "minutes", "reason"),
    [
        (-1, 60, "future"),
        (24 * 14, 60, "days"),
        (2, 20, "minutes"),
    ],
)
async def test_bad_windows_are_refused_and_change_nothing(
    world: ChatWorld, start_hours: float, minutes: int, reason: str
) -> None:
    _, token = await world.customer()
    async with live(world.app()) as address, client(address, token) as http:
        refused = await http.post("/v1/support/callbacks", json=window(world, start_hours, minutes))
    assert refused.status_code == 422
    assert reason in refused.json()["detail"]
    assert await _count(world) == 0


async def test_a_window_outside_hotline_hours_is_refused(world: ChatWorld) -> None:
    # START is 09:00:10 China time; the hotline opens 09:00-21:00.
    world.settings = world.settings.model_copy(update={"support_hours": "09:00-21:00"})
    _, token = await world.customer()
    async with live(world.app()) as address, client(address, token) as http:
        late = await http.post("/v1/support/callbacks", json=window(world, 11.5, 60))
        assert late.status_code == 422
        assert "hours" in late.json()["detail"]
        fine = await http.post("/v1/support/callbacks", json=window(world, 10, 60))
        assert fine.status_code == 201, fine.text
    assert await _count(world) == 1


async def test_agent_logs_a_phone_call_as_a_ticket(world: ChatWorld) -> None:
    user_id, _ = await world.customer(phone="+8613700001111")
    _, agent = await world.agent()
    async with live(world.app()) as address, client(address, agent) as http:
        logged = await http.post(
            "/v1/staff/support/calls",
            json={
                "phone": "137 0000 1111",
                "summary": "asked why a top-up is pending",
                "category": "topup",
                "outcome": "resolved",
            },
        )
        assert logged.status_code == 201, logged.text
        assert logged.json()["user_id"] == user_id
        # A caller without an account (say, one whose registration failed) is not lost:
        # the ticket carries the number instead of a user.
        stranger = await http.post(
            "/v1/staff/support/calls",
            json={
                "phone": "136 0000 2222",
                "summary": "cannot register: the code never arrives",
                "outcome": "resolved",
            },
        )
        assert stranger.status_code == 201, stranger.text
        assert stranger.json()["user_id"] is None
        shown = await http.get(f"/v1/staff/support/tickets/{stranger.json()['ticket_id']}")
        assert shown.status_code == 200, shown.text
        assert (shown.json()["user_id"], shown.json()["phone"]) == (None, "+8613600002222")
        refused = await http.post(
            "/v1/staff/support/calls",
            json={"phone": "not a phone", "summary": "x", "outcome": "resolved"},
        )
        assert refused.status_code == 422
    async with world.engine.connect() as conn:
        rows = (await conn.execute(select(tickets).order_by(tickets.c.created_at))).all()
    known = next(row for row in rows if row.user_id is not None)
    assert (known.channel, known.user_id, known.category, known.phone) == (
        "phone",
        user_id,
        "topup",
        None,
    )
    assert len(rows) == 2
