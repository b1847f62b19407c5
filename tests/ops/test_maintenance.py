"""Maintenance windows: writes answer 503 with Retry-After, reads and the staff API work,
and writes come back when the window ends or is cancelled."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.i18n import DETAILS
from ewallet.models.identity import VerificationCode
from ewallet.models.operations import MaintenanceWindow
from ewallet.ops.service import MaintenanceSchedule
from ewallet.security.context import SecurityContext
from tests.fixtures.identity import E164, PASSWORD, PHONE, Wallet
from tests.fixtures.staff import audit_actions, bearer, make_staff, staff_token

HOUR = timedelta(hours=1)
verification_codes = cast(Table, VerificationCode.__table__)


@pytest.fixture
async def operator(
    engine: AsyncEngine,
    security: SecurityContext,
    fast_settings: Settings,
    clock: FrozenClock,
    client: httpx.AsyncClient,  # the app's lifespan runs
) -> dict[str, str]:
    login = await make_staff(engine, security, clock, "operator")
    return bearer(await staff_token(engine, security, fast_settings, clock, login.id))


async def schedule(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    clock: FrozenClock,
    *,
    start: timedelta = timedelta(0),
    length: timedelta = 2 * HOUR,
    message: str | None = None,
) -> str:
    starts_at = clock.now() + start
    body = {"starts_at": starts_at.isoformat(), "ends_at": (starts_at + length).isoformat()}
    if message is not None:
        body["message"] = message
    response = await client.post("/v1/staff/maintenance-windows", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_writes_refused_reads_and_staff_work_until_the_end(
    client: httpx.AsyncClient, operator: dict[str, str], clock: FrozenClock
) -> None:
    await schedule(client, operator, clock)

    refused = await client.post("/v1/users", json={})
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "7200"
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "maintenance"
    assert body["retry_after"] == 7200
    assert (body["title"], body["detail"]) == ("系统维护中", DETAILS["maintenance"].zh_cn)
    english = await client.post("/v1/topups", json={}, headers={"Accept-Language": "en"})
    assert english.status_code == 503
    assert (english.json()["title"], english.json()["detail"]) == (
        "Down for maintenance",
        "The wallet is under maintenance; try again later.",
    )
    assert (await client.delete("/v1/me/devices/dev_1")).status_code == 503

    # Reads, probes and the staff API are untouched; so is keeping a session alive.
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/v1/staff/me", headers=operator)).status_code == 200
    refresh = await client.post("/v1/staff/sessions/refresh", headers=operator)
    assert refresh.status_code == 201
    assert (await client.post("/v1/sessions/refresh", json={})).status_code != 503
    assert (await client.get("/v1/me")).status_code != 503
    banner = (await client.get("/v1/maintenance")).json()
    assert banner["active"] is True
    assert banner["until"] is not None

    clock.advance(HOUR + timedelta(seconds=0.5))
    assert (await client.post("/v1/users", json={})).headers["retry-after"] == "3600"
    clock.advance(HOUR)
    assert (await client.post("/v1/users", json={})).status_code != 503
    assert (await client.get("/v1/maintenance")).json()["active"] is False


async def test_a_complete_registration_waits_for_the_window_to_end(
    app: FastAPI, client: httpx.AsyncClient, operator: dict[str, str], clock: FrozenClock
) -> None:
    """A valid registration during a window is refused before anything happens: no account,
    and the SMS code obtained before the window still works once it is over."""
    wallet = Wallet(app, client, clock)
    assert (await wallet.ask_code(PHONE, "register")).status_code == 202
    body = {"phone": PHONE, "verification_code": await wallet.last_code(E164)}
    body |= {"login_password": PASSWORD, "device_id": "phone-1"}
    await schedule(client, operator, clock, length=timedelta(minutes=2))
    codes_before = await wallet.rows(select(verification_codes))

    refused = await client.post("/v1/users", json=body)
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "maintenance"
    assert refused.headers["retry-after"] == "120"
    assert await wallet.count("users") == 0
    assert await wallet.rows(select(verification_codes)) == codes_before
    [code] = codes_before
    assert (code.consumed_at, code.attempts) == (None, 0)

    clock.advance(timedelta(minutes=2))  # the code lives 5 minutes: still good
    registered = await client.post("/v1/users", json=body)
    assert registered.status_code == 201, registered.text
    assert await wallet.count("users") == 1


async def test_the_window_message_is_the_detail(
    client: httpx.AsyncClient, operator: dict[str, str], clock: FrozenClock
) -> None:
    message = "系统升级中，预计 02:00 恢复 / Upgrading, back at 02:00"
    await schedule(client, operator, clock, message=message)
    for language in ("zh-CN", "en"):
        response = await client.post("/v1/users", json={}, headers={"Accept-Language": language})
        assert response.json()["detail"] == message
        assert response.headers["content-language"] == language


async def test_cancelling_restores_writes_at_once(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: dict[str, str], clock: FrozenClock
) -> None:
    window_id = await schedule(client, operator, clock)
    assert (await client.post("/v1/users", json={})).status_code == 503
    listed = await client.get("/v1/staff/maintenance-windows", headers=operator)
    assert [w["id"] for w in listed.json()["items"]] == [window_id]

    cancelled = await client.delete(f"/v1/staff/maintenance-windows/{window_id}", headers=operator)
    assert cancelled.status_code == 204
    assert (await client.post("/v1/users", json={})).status_code != 503
    again = await client.delete(f"/v1/staff/maintenance-windows/{window_id}", headers=operator)
    assert again.status_code == 404
    actions = [a for a, _, _ in await audit_actions(engine) if a.startswith("maintenance.")]
    assert actions == ["maintenance.scheduled", "maintenance.cancelled"]


async def test_a_future_window_starts_on_time_and_chains_with_the_next(
    client: httpx.AsyncClient, operator: dict[str, str], clock: FrozenClock
) -> None:
    await schedule(client, operator, clock, start=HOUR, length=HOUR)
    await schedule(client, operator, clock, start=2 * HOUR, length=HOUR, message="part two")
    assert (await client.post("/v1/users", json={})).status_code != 503
    banner = (await client.get("/v1/maintenance")).json()
    assert banner["active"] is False
    assert len(banner["upcoming"]) == 2

    clock.advance(HOUR)
    refused = await client.post("/v1/users", json={})
    assert refused.status_code == 503
    # Back-to-back windows are one stretch: retry after both.
    assert refused.headers["retry-after"] == "7200"
    clock.advance(HOUR)
    assert (await client.post("/v1/users", json={})).json()["detail"] == "part two"


@pytest.mark.parametrize(
    "body",
    [
        {"starts_at": "2026-03-02T02:00:00", "ends_at": "2026-03-02T03:00:00"},
        {"starts_at": "2026-03-02T03:00:00+00:00", "ends_at": "2026-03-02T02:00:00+00:00"},
        {"starts_at": "2026-03-01T03:00:00+00:00", "ends_at": "2026-03-02T02:00:00+00:00"},
        {"starts_at": "2026-03-02T02:00:00+08:00", "ends_at": "2026-03-02T03:00:00+08:00"},
        {"starts_at": "2026-03-02T02:00Z", "ends_at": "2026-03-02T03:00Z", "message": "x" * 501},
    ],
    ids=["no-offset", "ends-first", "starts-in-past", "past-in-utc+8", "message-too-long"],
)
async def test_bad_windows_are_refused(
    client: httpx.AsyncClient, operator: dict[str, str], body: dict[str, str]
) -> None:
    response = await client.post("/v1/staff/maintenance-windows", json=body, headers=operator)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_other_processes_see_changes_within_the_cache_bound(
    app: FastAPI, engine: AsyncEngine, security: SecurityContext, clock: FrozenClock
) -> None:
    """A window written by another process shows up here after at most ``ttl_seconds``."""
    staff = await make_staff(engine, security, clock, "operator")
    ticks = [100.0]
    schedule = MaintenanceSchedule(ttl_seconds=1.0, monotonic=lambda: ticks[0])
    assert await schedule.active(engine, clock) is None
    async with engine.begin() as conn:
        await conn.execute(
            insert(MaintenanceWindow).values(
                id="mw_other",
                starts_at=clock.now(),
                ends_at=clock.now() + HOUR,
                created_by=staff.id,
                created_at=clock.now(),
            )
        )
    ticks[0] += 0.99
    assert await schedule.active(engine, clock) is None  # cached: no query yet
    ticks[0] += 0.02
    active = await schedule.active(engine, clock)
    assert active is not None
    assert active.window.id == "mw_other"
    assert active.until == clock.now() + HOUR


async def test_an_unreadable_schedule_fails_open(tmp_path: Path) -> None:
    """No schedule table (or no database): writes are not all answered with a 500."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")
    ticks = [0.0]
    schedule = MaintenanceSchedule(monotonic=lambda: ticks[0])
    try:
        assert await schedule.active(engine, FrozenClock()) is None
        assert await schedule.windows(engine, FrozenClock()) == []
    finally:
        await engine.dispose()
