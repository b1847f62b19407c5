"""/v1/me: profile, login password, devices (and IDOR), and step-up for risky actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ewallet.http.deps import app_services
from ewallet.identity.runtime import Caller
from ewallet.identity.stepup.service import redeem_step_up, require_step_up
from ewallet.kit.db.base import Base
from tests.fixtures.identity import E164, PASSWORD, PHONE, Wallet, bearer

users = Base.metadata.tables["users"]
audit = Base.metadata.tables["audit_events"]
notifications = Base.metadata.tables["notifications"]
devices = Base.metadata.tables["devices"]
NEW_PASSWORD = "a brand new passphrase"


async def test_get_and_patch_the_profile(wallet: Wallet) -> None:
    access = (await wallet.register())["tokens"]["access_token"]
    me = (await wallet.client.get("/v1/me", headers=bearer(access))).json()
    assert me["phone"] == "138****5678"
    assert me["locale"] == "zh-CN"
    response = await wallet.client.patch(
        "/v1/me", json={"locale": "en", "nickname": "  小明  "}, headers=bearer(access)
    )
    assert response.status_code == 200
    assert (response.json()["locale"], response.json()["nickname"]) == ("en", "小明")
    only_nick = await wallet.client.patch(
        "/v1/me", json={"nickname": "阿明"}, headers=bearer(access)
    )
    assert (only_nick.json()["locale"], only_nick.json()["nickname"]) == ("en", "阿明")
    cleared = await wallet.client.patch("/v1/me", json={"nickname": None}, headers=bearer(access))
    assert cleared.json()["nickname"] is None
    assert [r.action for r in await wallet.rows(select(audit))].count("user.profile_updated") == 3


@pytest.mark.parametrize(
    "body",
    [
        {"nickname": "字" * 21},
        {"nickname": 12},
        {"nickname": "tab\there"},
        {"locale": "fr"},
        {"locale": None, "colour": "red"},
    ],
)
async def test_bad_profile_changes_change_nothing(wallet: Wallet, body: dict[str, Any]) -> None:
    access = (await wallet.register())["tokens"]["access_token"]
    [before] = await wallet.rows(select(users))
    response = await wallet.client.patch("/v1/me", json=body, headers=bearer(access))
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert await wallet.rows(select(users)) == [before]


async def test_changing_the_login_password(wallet: Wallet) -> None:
    access = (await wallet.register())["tokens"]["access_token"]
    step_up = (await wallet.sign_in(device="tablet")).json()
    other = (
        await wallet.client.post(
            "/v1/sessions/step-up",
            json={
                "challenge_id": step_up["challenge_id"],
                "verification_code": await wallet.last_code(),
            },
        )
    ).json()["tokens"]["access_token"]
    response = await wallet.client.put(
        "/v1/me/login-password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(access),
    )
    assert response.status_code == 204
    assert (await wallet.client.get("/v1/me", headers=bearer(access))).status_code == 200
    assert (await wallet.client.get("/v1/me", headers=bearer(other))).status_code == 401
    kinds = [row.kind for row in await wallet.rows(select(notifications))]
    assert kinds[-1] == "login_password_changed"
    assert "登录密码已于" in (await wallet.sms(E164))[-1].body
    event = (await wallet.rows(select(audit).order_by(audit.c.id)))[-1]
    assert (event.action, event.details) == ("user.login_password_changed", {"sessions_ended": 1})
    assert (await wallet.sign_in(password=PASSWORD)).json()["code"] == "invalid_credentials"
    assert (await wallet.sign_in(password=NEW_PASSWORD)).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"current_password": "wrong one!", "new_password": NEW_PASSWORD},
            401,
            "invalid_credentials",
        ),
        ({"current_password": PASSWORD, "new_password": "short"}, 422, "weak_password"),
        ({"current_password": PASSWORD, "new_password": "password123"}, 422, "weak_password"),
        ({"current_password": PASSWORD, "new_password": f"my{PHONE}"}, 422, "weak_password"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, 422, "weak_password"),
        ({"current_password": PASSWORD, "new_password": 12345678}, 422, "validation_error"),
        ({"current_password": "", "new_password": NEW_PASSWORD}, 422, "validation_error"),
    ],
)
async def test_refused_password_changes(
    wallet: Wallet, body: dict[str, Any], status: int, code: str
) -> None:
    access = (await wallet.register())["tokens"]["access_token"]
    [before] = await wallet.rows(select(users.c.login_password_hash))
    snapshot = await wallet.snapshot()
    response = await wallet.client.put("/v1/me/login-password", json=body, headers=bearer(access))
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert await wallet.rows(select(users.c.login_password_hash)) == [before]
    assert await wallet.snapshot() == snapshot
    if body["new_password"] == PASSWORD:
        assert "same_as_current" in response.json()["reasons"]


async def test_wrong_current_passwords_count_toward_the_lock(wallet: Wallet) -> None:
    access = (await wallet.register())["tokens"]["access_token"]
    body = {"current_password": "wrong one!", "new_password": NEW_PASSWORD}
    codes = [
        (
            await wallet.client.put("/v1/me/login-password", json=body, headers=bearer(access))
        ).json()["code"]
        for _ in range(5)
    ]
    assert codes == ["invalid_credentials"] * 4 + ["too_many_attempts"]
    assert (await wallet.sign_in()).json()["code"] == "too_many_attempts"


async def test_devices_list_and_sign_out(wallet: Wallet) -> None:
    first = (await wallet.register())["tokens"]
    challenge = (await wallet.sign_in(device="tablet")).json()["challenge_id"]
    second = (
        await wallet.client.post(
            "/v1/sessions/step-up",
            json={"challenge_id": challenge, "verification_code": await wallet.last_code()},
        )
    ).json()["tokens"]
    listed = (
        await wallet.client.get("/v1/me/devices", headers=bearer(first["access_token"]))
    ).json()
    assert len(listed["items"]) == 2
    current = [item for item in listed["items"] if item["current"]]
    assert len(current) == 1
    assert set(current[0]) == {
        "id",
        "label",
        "trusted",
        "first_seen_at",
        "last_seen_at",
        "current",
    }
    tablet = next(item for item in listed["items"] if not item["current"])
    response = await wallet.client.delete(
        f"/v1/me/devices/{tablet['id']}", headers=bearer(first["access_token"])
    )
    assert response.status_code == 204
    assert (
        await wallet.client.get("/v1/me", headers=bearer(second["access_token"]))
    ).status_code == 401
    status, _ = (
        (
            await wallet.client.post(
                "/v1/sessions/refresh", json={"refresh_token": second["refresh_token"]}
            )
        ).status_code,
        None,
    )
    assert status == 401
    remaining = (
        await wallet.client.get("/v1/me/devices", headers=bearer(first["access_token"]))
    ).json()
    assert [item["id"] for item in remaining["items"]] == [current[0]["id"]]
    # Signing in there again needs a new step-up.
    assert (await wallet.sign_in(device="tablet")).json()["code"] == "step_up_required"
    again = await wallet.client.delete(
        f"/v1/me/devices/{tablet['id']}", headers=bearer(first["access_token"])
    )
    assert again.status_code == 404


async def test_another_users_device_is_not_found_and_untouched(wallet: Wallet) -> None:
    alice = (await wallet.register())["tokens"]
    bob = (await wallet.register("13900002222", "+8613900002222", device="bob-phone"))["tokens"]
    bob_devices = (
        await wallet.client.get("/v1/me/devices", headers=bearer(bob["access_token"]))
    ).json()
    bob_device = bob_devices["items"][0]["id"]
    before = await wallet.snapshot()
    [bob_row] = await wallet.rows(select(devices).where(devices.c.id == bob_device))
    response = await wallet.client.delete(
        f"/v1/me/devices/{bob_device}", headers=bearer(alice["access_token"])
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert await wallet.snapshot() == before
    assert await wallet.rows(select(devices).where(devices.c.id == bob_device)) == [bob_row]
    assert (
        await wallet.client.get("/v1/me", headers=bearer(bob["access_token"]))
    ).status_code == 200
    missing = await wallet.client.delete(
        "/v1/me/devices/dev_nope", headers=bearer(alice["access_token"])
    )
    assert missing.status_code == 404


async def test_a_risky_action_asks_for_a_step_up_once(wallet: Wallet) -> None:
    registered = await wallet.register()
    user_id, access = registered["user"]["id"], registered["tokens"]["access_token"]
    services = app_services(wallet.app)
    caller = Caller(ip="127.0.0.1", user_agent=None, locale="zh-CN")
    error = await require_step_up(
        services, caller=caller, user_id=user_id, purpose="withdrawal", context={"amount": "500.00"}
    )
    assert error.code == "step_up_required"
    assert error.extra["sms_sent"] is True
    challenge = error.extra["challenge_id"]
    code = await wallet.last_code()
    # Not a sign-in challenge: the public step-up refuses it, as an unknown one.
    public = await wallet.client.post(
        "/v1/sessions/step-up", json={"challenge_id": challenge, "verification_code": code}
    )
    assert public.status_code == 404
    bob = (await wallet.register("13900002222", "+8613900002222"))["tokens"]["access_token"]
    theirs = await wallet.client.post(
        "/v1/me/step-up",
        json={"challenge_id": challenge, "verification_code": code},
        headers=bearer(bob),
    )
    assert theirs.status_code == 404
    passed = await wallet.client.post(
        "/v1/me/step-up",
        json={"challenge_id": challenge, "verification_code": code},
        headers=bearer(access),
    )
    assert passed.status_code == 200
    assert passed.json() == {
        "challenge_id": challenge,
        "completed": True,
    }

    async def redeem(purpose: str) -> dict[str, Any] | None:
        async with wallet.engine.begin() as connection:
            return await redeem_step_up(
                connection,
                clock=wallet.clock,
                user_id=user_id,
                challenge_id=challenge,
                purpose=purpose,
            )

    assert await redeem("transfer") is None  # another purpose
    assert await redeem("withdrawal") == {"amount": "500.00"}
    assert await redeem("withdrawal") is None  # once


async def test_a_passed_action_challenge_must_be_used_soon(wallet: Wallet) -> None:
    registered = await wallet.register()
    services = app_services(wallet.app)
    caller = Caller(ip=None, user_agent=None, locale="en")
    user_id = registered["user"]["id"]
    error = await require_step_up(
        services, caller=caller, user_id=user_id, purpose="withdrawal", context={}
    )
    challenge = error.extra["challenge_id"]
    await wallet.client.post(
        "/v1/me/step-up",
        json={"challenge_id": challenge, "verification_code": await wallet.last_code()},
        headers=bearer(registered["tokens"]["access_token"]),
    )
    wallet.clock.advance(timedelta(minutes=5))
    async with wallet.engine.begin() as connection:
        assert (
            await redeem_step_up(
                connection,
                clock=wallet.clock,
                user_id=user_id,
                challenge_id=challenge,
                purpose="withdrawal",
            )
            is None
        )
