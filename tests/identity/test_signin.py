"""POST /v1/sessions and /v1/sessions/step-up: credentials, new devices, throttling, locks."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import timedelta
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select, update

from ewallet.config import Settings
from ewallet.identity import runtime
from ewallet.kit.db.base import Base
from tests.fixtures.identity import E164, PASSWORD, PHONE, Wallet, bearer, running

users = Base.metadata.tables["users"]
devices = Base.metadata.tables["devices"]
audit = Base.metadata.tables["audit_events"]
notifications = Base.metadata.tables["notifications"]
STRANGER = "13900001111"


async def enable_totp(wallet: Wallet, user_id: str) -> pyotp.TOTP:
    secret = pyotp.random_base32()
    sealed = wallet.app.state.security.cipher.encrypt(secret, context=f"totp:{user_id}")
    async with wallet.engine.begin() as connection:
        await connection.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(totp_secret_encrypted=sealed, totp_enabled_at=wallet.clock.now())
        )
    return pyotp.TOTP(secret)


async def actions(wallet: Wallet) -> list[str]:
    return [row.action for row in await wallet.rows(select(audit).order_by(audit.c.id))]


async def test_known_device_signs_in(wallet: Wallet) -> None:
    await wallet.register()
    response = await wallet.sign_in(" +86 138 1234 5678 ")
    assert response.status_code == 201
    tokens = response.json()["tokens"]
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "device_id"}
    me = await wallet.client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert (await actions(wallet))[-1] == "auth.signed_in"
    sessions = Base.metadata.tables["auth_sessions"]
    rows = await wallet.rows(select(sessions).order_by(sessions.c.created_at, sessions.c.id))
    # One device, one session: the registration's session was replaced.
    assert [row.revoked_reason for row in rows].count(None) == 1
    assert "replaced" in [row.revoked_reason for row in rows]


def visible(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "date")}
    return response.status_code, response.json(), headers


async def test_wrong_phone_or_password_are_the_same_answer(wallet: Wallet) -> None:
    await wallet.register()
    before = await wallet.snapshot()
    wrong_password = await wallet.sign_in(PHONE, password="not the password")
    no_account = await wallet.sign_in(STRANGER, password="not the password")
    assert visible(wrong_password) == visible(no_account)
    status, body, _ = visible(no_account)
    assert (status, body["code"], body["title"]) == (401, "invalid_credentials", "手机号或密码错误")
    assert set(body) == {"type", "title", "status", "detail", "code"}
    assert await wallet.snapshot() == before
    assert (await actions(wallet))[-2:] == ["auth.sign_in_failed", "auth.sign_in_failed"]


async def test_answer_time_does_not_tell_who_has_an_account(fast_settings: Settings) -> None:
    generous = fast_settings.model_copy(
        update={"login_lock_threshold": 1000, "login_per_ip_minute": 1000}
    )
    async with running(generous) as wallet:
        await wallet.register()
        timings: dict[str, list[float]] = {PHONE: [], STRANGER: []}
        for _ in range(12):
            for phone in (PHONE, STRANGER):
                began = time.perf_counter()
                response = await wallet.sign_in(phone, password="not the password")
                timings[phone].append(time.perf_counter() - began)
                assert response.status_code == 401
        account = statistics.median(timings[PHONE]) * 1000
        stranger = statistics.median(timings[STRANGER]) * 1000
        # Both verify an argon2 hash and write one audit event: within noise of each other.
        assert abs(account - stranger) < max(15.0, 0.5 * max(account, stranger)), (
            account,
            stranger,
        )


async def test_a_new_device_must_step_up_by_sms(wallet: Wallet) -> None:
    registered = await wallet.register()
    before = await wallet.counts("auth_sessions", "devices")
    response = await wallet.sign_in(device="tablet-9")
    assert response.status_code == 401
    problem = response.json()
    assert problem["code"] == "step_up_required"
    assert problem["methods"] == ["sms"]
    assert problem["sms_sent"] is True
    assert problem["expires_in"] == 300
    assert await wallet.counts("auth_sessions", "devices") == before  # no tokens yet
    code = await wallet.last_code()
    assert "用于验证身份" in (await wallet.sms(E164))[-1].body
    done = await wallet.client.post(
        "/v1/sessions/step-up",
        json={
            "challenge_id": problem["challenge_id"],
            "verification_code": code,
            "device_label": "iPad",
        },
    )
    assert done.status_code == 201, done.text
    tokens = done.json()["tokens"]
    assert tokens["device_id"] == "tablet-9"
    listed = await wallet.client.get("/v1/me/devices", headers=bearer(tokens["access_token"]))
    labels = {item["label"]: item for item in listed.json()["items"]}
    assert labels["iPad"]["trusted"] is True
    assert labels["iPad"]["current"] is True
    [notice] = await wallet.rows(select(notifications))
    assert (notice.kind, notice.params["device"], notice.user_id) == (
        "new_device_sign_in",
        "iPad",
        registered["user"]["id"],
    )
    assert "新设备（iPad）" in (await wallet.sms(E164))[-1].body
    again = await wallet.client.post(
        "/v1/sessions/step-up",
        json={"challenge_id": problem["challenge_id"], "verification_code": code},
    )
    assert again.json()["code"] == "verification_code_expired"  # single use
    assert (await wallet.sign_in(device="tablet-9")).status_code == 201  # now trusted


async def test_step_up_wrong_codes_expiry_and_unknown_challenges(wallet: Wallet) -> None:
    await wallet.register()
    challenge = (await wallet.sign_in(device="laptop")).json()["challenge_id"]
    code = await wallet.last_code()
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for remaining in (4, 3, 2, 1):
        response = await wallet.client.post(
            "/v1/sessions/step-up", json={"challenge_id": challenge, "verification_code": wrong}
        )
        assert response.json()["code"] == "verification_code_invalid"
        assert response.json()["remaining_attempts"] == remaining
    killed = await wallet.client.post(
        "/v1/sessions/step-up", json={"challenge_id": challenge, "verification_code": wrong}
    )
    assert killed.json()["code"] == "too_many_attempts"
    before = await wallet.snapshot()
    right = await wallet.client.post(
        "/v1/sessions/step-up", json={"challenge_id": challenge, "verification_code": code}
    )
    assert right.json()["code"] == "too_many_attempts"
    unknown = await wallet.client.post(
        "/v1/sessions/step-up", json={"challenge_id": "chl_nope", "verification_code": code}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert await wallet.snapshot() == before
    wallet.clock.advance(timedelta(minutes=2))
    fresh = (await wallet.sign_in(device="laptop")).json()["challenge_id"]
    wallet.clock.advance(timedelta(minutes=5))
    late = await wallet.client.post(
        "/v1/sessions/step-up",
        json={"challenge_id": fresh, "verification_code": await wallet.last_code()},
    )
    assert late.json()["code"] == "verification_code_expired"
    assert await wallet.count("auth_sessions") == 1


async def test_step_up_with_the_authenticator(wallet: Wallet) -> None:
    user_id = (await wallet.register())["user"]["id"]
    totp = await enable_totp(wallet, user_id)
    sms_before = len(await wallet.sms(E164))
    problem = (await wallet.sign_in(device="desk")).json()
    assert problem["methods"] == ["sms", "totp"]
    assert problem["sms_sent"] is False
    assert len(await wallet.sms(E164)) == sms_before  # nothing texted: TOTP is offered
    code = totp.at(wallet.clock.now())
    done = await wallet.client.post(
        "/v1/sessions/step-up", json={"challenge_id": problem["challenge_id"], "totp_code": code}
    )
    assert done.status_code == 201, done.text
    # The same code cannot pass another challenge.
    wallet.clock.advance(timedelta(seconds=1))
    other = (await wallet.sign_in(device="desk-2")).json()["challenge_id"]
    reused = await wallet.client.post(
        "/v1/sessions/step-up", json={"challenge_id": other, "totp_code": code}
    )
    assert (reused.json()["code"], reused.json()["remaining_attempts"]) == (
        "verification_code_invalid",
        4,
    )


async def test_an_sms_sign_in_on_a_new_device_asks_for_the_authenticator(wallet: Wallet) -> None:
    user_id = (await wallet.register())["user"]["id"]
    totp = await enable_totp(wallet, user_id)
    await wallet.ask_code(purpose="login")
    response = await wallet.client.post(
        "/v1/sessions",
        json={"phone": PHONE, "verification_code": await wallet.last_code(), "device_id": "new"},
    )
    problem = response.json()
    assert (problem["code"], problem["methods"]) == ("step_up_required", ["totp"])
    sms = await wallet.client.post(
        "/v1/sessions/step-up",
        json={"challenge_id": problem["challenge_id"], "verification_code": "123456"},
    )
    assert sms.json()["code"] == "validation_error"
    done = await wallet.client.post(
        "/v1/sessions/step-up",
        json={"challenge_id": problem["challenge_id"], "totp_code": totp.at(wallet.clock.now())},
    )
    assert done.status_code == 201


async def _fail(wallet: Wallet, phone: str, times: int) -> list[dict[str, Any]]:
    bodies = []
    for _ in range(times):
        response = await wallet.sign_in(phone, password="wrong password!")
        bodies.append({"status": response.status_code, **response.json()})
    return bodies


async def test_wrong_passwords_lock_for_a_while_and_strangers_alike(wallet: Wallet) -> None:
    await wallet.register()
    account = await _fail(wallet, PHONE, 6)
    stranger = await _fail(wallet, STRANGER, 6)
    assert account == stranger  # same statuses, same bodies, same retry_after
    assert [body["code"] for body in account] == ["invalid_credentials"] * 4 + [
        "too_many_attempts"
    ] * 2
    assert account[4]["retry_after"] == 15 * 60
    # While locked even the right password is refused, and the refusals are not counted.
    locked = await wallet.sign_in()
    assert (locked.status_code, locked.json()["retry_after"]) == (429, 15 * 60)
    assert locked.headers["Retry-After"] == "900"
    log = await actions(wallet)
    assert log.count("auth.login_locked") == 2
    assert log.count("auth.sign_in_failed") == 10
    assert log.count("auth.sign_in_refused_locked") == 3
    wallet.clock.advance(timedelta(minutes=14, seconds=59))
    assert (await wallet.sign_in()).json()["retry_after"] == 1
    wallet.clock.advance(timedelta(seconds=1))
    assert (await wallet.sign_in()).status_code == 201  # the lock ends on time
    [row] = await wallet.rows(select(users))
    assert (row.login_failures, row.login_locked_until) == (0, None)


async def test_the_owner_gets_past_a_lock_with_an_sms_code(wallet: Wallet) -> None:
    await wallet.register()
    await _fail(wallet, PHONE, 5)
    assert (await wallet.sign_in()).status_code == 429
    await wallet.ask_code(purpose="login")
    response = await wallet.client.post(
        "/v1/sessions",
        json={
            "phone": "0086 138 1234 5678",
            "verification_code": await wallet.last_code(),
            "device_id": "phone-1",
        },
    )
    assert response.status_code == 201, response.text
    assert (await wallet.sign_in()).status_code == 201  # the lock is gone


async def test_an_sms_sign_in_on_a_new_device_is_its_step_up(wallet: Wallet) -> None:
    await wallet.register()
    await wallet.ask_code(purpose="login")
    response = await wallet.client.post(
        "/v1/sessions",
        json={"phone": PHONE, "verification_code": await wallet.last_code(), "device_id": "other"},
    )
    assert response.status_code == 201
    [notice] = await wallet.rows(select(notifications))
    assert notice.kind == "new_device_sign_in"


async def test_an_sms_sign_in_for_a_phone_without_account(wallet: Wallet) -> None:
    await wallet.ask_code(STRANGER, "login")  # a code row exists, no SMS left
    before = await wallet.snapshot()
    response = await wallet.client.post(
        "/v1/sessions", json={"phone": STRANGER, "verification_code": "000000"}
    )
    assert response.json()["code"] in ("verification_code_invalid",)
    assert response.json()["remaining_attempts"] == 4
    after = await wallet.snapshot()
    assert {k: v for k, v in after.items() if k != "code_states"} == {
        k: v for k, v in before.items() if k != "code_states"
    }


async def test_sign_in_attempts_are_capped_per_address(fast_settings: Settings) -> None:
    async with running(fast_settings.model_copy(update={"login_per_ip_minute": 3})) as wallet:
        await wallet.register()
        async with wallet.client_from("10.1.1.1") as mine, wallet.client_from("10.1.1.2") as other:
            for _ in range(3):
                await mine.post("/v1/sessions", json={"phone": STRANGER, "login_password": "x" * 8})
            before = await wallet.snapshot()
            audit_before = await wallet.count("audit_events")
            refused = await mine.post(
                "/v1/sessions",
                json={"phone": PHONE, "login_password": PASSWORD, "device_id": "phone-1"},
            )
            assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
            assert int(refused.headers["Retry-After"]) >= 1
            assert await wallet.snapshot() == before
            assert await wallet.count("audit_events") == audit_before
            ok = await other.post(
                "/v1/sessions",
                json={"phone": PHONE, "login_password": PASSWORD, "device_id": "phone-1"},
            )
            assert ok.status_code == 201
            wallet.clock.advance(timedelta(minutes=1))
            later = await mine.post(
                "/v1/sessions",
                json={"phone": PHONE, "login_password": PASSWORD, "device_id": "phone-1"},
            )
            assert later.status_code == 201


async def test_the_delay_grows_with_failures_for_accounts_and_strangers(wallet: Wallet) -> None:
    seen: list[int] = []

    async def record(failures: int) -> None:
        seen.append(failures)

    wallet.app.state.login_delay = record
    await wallet.register()
    await _fail(wallet, PHONE, 3)
    await _fail(wallet, STRANGER, 3)
    assert seen == [0, 1, 2, 0, 1, 2]


async def test_progressive_delay_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    for failures in (0, 1, 2, 3, 4, 5, 50):
        await runtime.progressive_delay(failures)
    assert slept == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


async def test_a_closed_account_signs_in_like_no_account(wallet: Wallet) -> None:
    await wallet.register()
    async with wallet.engine.begin() as connection:
        await connection.execute(update(users).values(status="closed"))
    response = await wallet.sign_in()
    assert response.json()["code"] == "invalid_credentials"
    assert await wallet.rows(select(devices).where(devices.c.device_key == "x")) == []
