"""The staff chat socket admits staff exactly as the staff API does (one session check).

Both call :func:`ewallet.staff.service.sessions.authenticate_staff`; the socket adds only
where the token comes from (the first frame), its close codes, and the chat's role rule.
"""

from __future__ import annotations

from sqlalchemy import update

from ewallet.models.operations import StaffStatus
from ewallet.models.tables import staff
from tests.fixtures.chat import ChatWorld, client, connect, live
from tests.fixtures.staff import make_staff, staff_token

AGENT = "/v1/staff/support/chat"


async def test_a_signed_out_session_is_refused_by_socket_and_api_alike(world: ChatWorld) -> None:
    _, token = await world.agent()
    async with live(world.app()) as address:
        async with client(address, token) as http:
            assert (await http.get("/v1/staff/me")).status_code == 200
            assert (await http.delete("/v1/staff/sessions/current")).status_code == 204
            assert (await http.get("/v1/staff/me")).status_code == 401
        async with connect(address, AGENT, token) as sock:
            assert await sock.close_code() == 4401


async def test_a_disabled_agent_is_refused_at_once(world: ChatWorld) -> None:
    staff_id, token = await world.agent()
    async with world.engine.begin() as conn:
        await conn.execute(
            update(staff).where(staff.c.id == staff_id).values(status=StaffStatus.DISABLED)
        )
    async with live(world.app()) as address:
        async with connect(address, AGENT, token) as sock:
            assert await sock.close_code() == 4401
        async with client(address, token) as http:
            assert (await http.get("/v1/staff/me")).status_code == 401


async def test_an_agent_with_the_one_time_password_may_not_chat(world: ChatWorld) -> None:
    login = await make_staff(
        world.engine, world.security, world.clock, "support_agent", password_changed=False
    )
    token = await staff_token(world.engine, world.security, world.settings, world.clock, login.id)
    async with live(world.app()) as address:
        async with client(address, token) as http:
            assert (await http.get("/v1/staff/me")).status_code == 200  # signed in all right
        async with connect(address, AGENT, token) as sock:
            assert await sock.close_code() == 4403
