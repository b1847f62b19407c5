"""Staff sign-in: email + password + TOTP, one answer for every wrong part, no code twice,
a temporary lock after repeated failures, and sessions that end when they should."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.serving import serving
from tests.fixtures.staff import (
    TOTP_STEP,
    StaffLogin,
    audit_actions,
    bearer,
    make_staff,
    sessions_table,
    staff_table,
)


@pytest.fixture
async def teller(engine: AsyncEngine, security: SecurityContext, clock: FrozenClock) -> StaffLogin:
    return await make_staff(engine, security, clock, "teller", email="Teller.One@Bank.example")


async def test_sign_in_opens_a_session_and_audits_it(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: FrozenClock,
    teller: StaffLogin,
    fast_settings: Settings,
) -> None:
    # The email is matched case-insensitively and with spaces trimmed.
    body = teller.body(clock, email="  TELLER.one@bank.EXAMPLE ")
    response = await client.post("/v1/staff/sessions", json=body)

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    payload = response.json()
    tokens = payload["tokens"]
    assert payload["must_change_password"] is False
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == fast_settings.access_token_minutes * 60
    me = await client.get("/v1/staff/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == teller.id
    assert me.json()["role"] == "teller"
    assert me.json()["last_sign_in_at"] is not None
    async with engine.connect() as conn:
        [session] = (await conn.execute(select(sessions_table))).all()
    assert session.staff_id == teller.id
    assert session.expires_at == clock.now() + timedelta(hours=fast_settings.staff_session_hours)
    assert (await audit_actions(engine))[-1] == ("staff.signed_in", teller.id, teller.id)


@pytest.mark.parametrize("wrong", ["password", "totp_code", "email"])
async def test_any_wrong_part_answers_the_same(
    client: httpx.AsyncClient, clock: FrozenClock, teller: StaffLogin, wrong: str
) -> None:
    replacement = {"password": "not-the-password", "totp_code": "000000", "email": "x@y.example"}
    if wrong == "totp_code" and teller.code(clock) == "000000":
        replacement["totp_code"] = "111111"
    response = await client.post(
        "/v1/staff/sessions", json=teller.body(clock, **{wrong: replacement[wrong]})
    )
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "invalid_credentials"
    assert set(body) == {"type", "title", "status", "detail", "code"}
    assert body["detail"] == "登录信息不正确，请核对后重试。"


async def test_unknown_email_is_audited_without_the_address(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: FrozenClock, teller: StaffLogin
) -> None:
    response = await client.post(
        "/v1/staff/sessions", json=teller.body(clock, email="nobody@bank.example")
    )
    assert response.status_code == 401
    assert (await audit_actions(engine))[-1] == ("staff.sign_in_failed", None, None)


async def test_a_totp_code_is_accepted_once(
    client: httpx.AsyncClient, clock: FrozenClock, teller: StaffLogin
) -> None:
    body = teller.body(clock)
    assert (await client.post("/v1/staff/sessions", json=body)).status_code == 201
    # Same code, same step: refused even though password and code are right.
    again = await client.post("/v1/staff/sessions", json=body)
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_credentials"
    # The code of the previous step is inside the ±1 window but older than the used one.
    clock.advance(TOTP_STEP)
    older = await client.post("/v1/staff/sessions", json=body)
    assert older.status_code == 401
    # A fresh code works.
    fresh = await client.post("/v1/staff/sessions", json=teller.body(clock))
    assert fresh.status_code == 201


async def test_repeated_failures_lock_the_account_for_a_while(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: FrozenClock,
    teller: StaffLogin,
    fast_settings: Settings,
) -> None:
    wrong = teller.body(clock, password="wrong-password-here")
    for _ in range(fast_settings.login_lock_threshold):
        assert (await client.post("/v1/staff/sessions", json=wrong)).status_code == 401
    # Locked: even the right password and a fresh code are refused, with a retry time.
    clock.advance(TOTP_STEP)
    locked = await client.post("/v1/staff/sessions", json=teller.body(clock))
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    retry = locked.json()["retry_after"]
    assert retry == fast_settings.login_lock_minutes * 60 - 30
    assert locked.headers["retry-after"] == str(retry)
    # The lock ends by itself.
    clock.advance(timedelta(seconds=retry))
    assert (await client.post("/v1/staff/sessions", json=teller.body(clock))).status_code == 201
    async with engine.connect() as conn:
        row = (await conn.execute(select(staff_table).where(staff_table.c.id == teller.id))).one()
    assert row.failures == 0
    actions = [a for a, _, _ in await audit_actions(engine)]
    assert actions.count("staff.sign_in_failed") == fast_settings.login_lock_threshold


async def test_a_success_resets_the_failure_count(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    teller: StaffLogin,
    fast_settings: Settings,
) -> None:
    wrong = teller.body(clock, password="wrong-password-here")
    for _ in range(fast_settings.login_lock_threshold - 1):
        assert (await client.post("/v1/staff/sessions", json=wrong)).status_code == 401
    assert (await client.post("/v1/staff/sessions", json=teller.body(clock))).status_code == 201
    for _ in range(fast_settings.login_lock_threshold - 1):
        assert (await client.post("/v1/staff/sessions", json=wrong)).status_code == 401
    clock.advance(TOTP_STEP)
    assert (await client.post("/v1/staff/sessions", json=teller.body(clock))).status_code == 201


async def test_disabled_staff_learn_it_only_with_the_right_credentials(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    teller: StaffLogin,
) -> None:
    admin = await make_staff(engine, security, clock, "admin")
    clock.advance(TOTP_STEP)
    token = (await client.post("/v1/staff/sessions", json=admin.body(clock))).json()["tokens"]
    disabled = await client.post(
        f"/v1/staff/staff/{teller.id}/disable", headers=bearer(token["access_token"])
    )
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"

    wrong = await client.post(
        "/v1/staff/sessions", json=teller.body(clock, password="wrong-password-here")
    )
    assert wrong.status_code == 401
    right = await client.post("/v1/staff/sessions", json=teller.body(clock))
    assert right.status_code == 403
    assert right.json()["code"] == "staff_disabled"


async def test_sign_out_and_expiry_end_the_session(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    teller: StaffLogin,
    fast_settings: Settings,
) -> None:
    first = (await client.post("/v1/staff/sessions", json=teller.body(clock))).json()["tokens"]
    headers = bearer(first["access_token"])
    assert (await client.delete("/v1/staff/sessions/current", headers=headers)).status_code == 204
    assert (await client.get("/v1/staff/me", headers=headers)).status_code == 401

    clock.advance(TOTP_STEP)
    second = (await client.post("/v1/staff/sessions", json=teller.body(clock))).json()["tokens"]
    headers = bearer(second["access_token"])
    # Refreshing while the token is valid slides it forward...
    clock.advance(timedelta(minutes=fast_settings.access_token_minutes - 1))
    refreshed = await client.post("/v1/staff/sessions/refresh", headers=headers)
    assert refreshed.status_code == 201
    headers = bearer(refreshed.json()["tokens"]["access_token"])
    clock.advance(timedelta(minutes=fast_settings.access_token_minutes - 1))
    assert (await client.get("/v1/staff/me", headers=headers)).status_code == 200
    # ...but an idle token expires, and nothing outlives the session.
    clock.advance(timedelta(minutes=2))
    assert (await client.get("/v1/staff/me", headers=headers)).status_code == 401
    assert (await client.post("/v1/staff/sessions/refresh", headers=headers)).status_code == 401


async def test_refresh_never_goes_past_the_session(
    client: httpx.AsyncClient, clock: FrozenClock, teller: StaffLogin, fast_settings: Settings
) -> None:
    tokens = (await client.post("/v1/staff/sessions", json=teller.body(clock))).json()["tokens"]
    session_end = tokens["session_expires_at"]
    headers = bearer(tokens["access_token"])
    step = timedelta(minutes=fast_settings.access_token_minutes - 1)
    while True:
        clock.advance(step)
        response = await client.post("/v1/staff/sessions/refresh", headers=headers)
        if response.status_code != 201:
            break
        refreshed = response.json()["tokens"]
        assert refreshed["session_expires_at"] == session_end
        assert refreshed["expires_at"] <= session_end
        headers = bearer(refreshed["access_token"])
    assert response.status_code == 401
    # Refused from the first refresh at or after the session's end, not before.
    end = datetime.fromisoformat(session_end)
    assert end <= clock.now() < end + step


async def test_a_user_token_is_not_a_staff_token(
    client: httpx.AsyncClient, security: SecurityContext, clock: FrozenClock
) -> None:
    user_token = security.tokens.issue(
        subject="usr_x", session_id="ses_x", kind="user", now=clock.now(), ttl=timedelta(hours=1)
    )
    response = await client.get("/v1/staff/me", headers=bearer(user_token))
    assert response.status_code == 401


async def test_an_unknown_email_locks_like_a_known_one(
    client: httpx.AsyncClient, clock: FrozenClock, teller: StaffLogin, fast_settings: Settings
) -> None:
    """The lock must not tell which emails belong to staff: same answers, same timing."""
    answers: dict[str, list[tuple[int, int | None]]] = {}
    for email in (teller.email, "nobody@bank.example"):
        body = teller.body(clock, email=email, password="wrong-password-here")
        seen = []
        for _ in range(fast_settings.login_lock_threshold + 1):
            response = await client.post("/v1/staff/sessions", json=body)
            seen.append((response.status_code, response.json().get("retry_after")))
        answers[email] = seen
    assert answers[teller.email] == answers["nobody@bank.example"]
    assert answers[teller.email][-1] == (429, fast_settings.login_lock_minutes * 60)


async def test_each_address_has_a_sign_in_budget(
    engine: AsyncEngine, fast_settings: Settings, clock: FrozenClock
) -> None:
    app = create_app(fast_settings.model_copy(update={"login_per_ip_minute": 3}), clock=clock)
    async with serving(app) as client:
        body = {"email": "x@bank.example", "password": "whatever-it-is", "totp_code": "123456"}
        statuses = [
            (await client.post("/v1/staff/sessions", json=body)).status_code for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        refused = await client.post("/v1/staff/sessions", json=body)
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) <= 60
        clock.advance(timedelta(minutes=1))
        assert (await client.post("/v1/staff/sessions", json=body)).status_code == 401
