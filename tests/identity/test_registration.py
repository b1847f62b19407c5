"""POST /v1/users: an account from a proven code; every refusal leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ewallet.kit.db.base import Base
from tests.fixtures.identity import E164, PASSWORD, PHONE, Wallet, bearer

users = Base.metadata.tables["users"]
devices = Base.metadata.tables["devices"]
audit = Base.metadata.tables["audit_events"]
refresh_tokens = Base.metadata.tables["refresh_tokens"]


async def test_registration_opens_an_account_and_a_session(wallet: Wallet) -> None:
    await wallet.ask_code("+86 138-1234-5678")
    code = await wallet.last_code()
    response = await wallet.client.post(
        "/v1/users",
        json={
            "phone": "１３８ １２３４ ５６７８",
            "verification_code": code,
            "login_password": PASSWORD,
            "locale": "en",
            "device_id": "iphone-abc",
            "device_label": "  Li's iPhone ",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    user = body["user"]
    assert user["id"].startswith("usr_")
    assert user["phone"] == "138****5678"
    assert (user["tier"], user["status"], user["locale"], user["nickname"]) == (
        1,
        "active",
        "en",
        None,
    )
    assert user["payment_password_set"] is False
    assert user["totp_enabled"] is False
    assert user["identity_verified"] is False
    assert user["created_at"] == "2026-03-02T01:30:00Z"
    tokens = body["tokens"]
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60
    assert tokens["refresh_token"].startswith("rt_")
    assert tokens["device_id"] == "iphone-abc"
    [row] = await wallet.rows(select(users))
    assert row.phone == E164
    assert row.login_password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.login_password_hash
    [device] = await wallet.rows(select(devices))
    assert (device.device_key, device.label) == ("iphone-abc", "Li's iPhone")
    assert device.trusted_at is not None
    [stored] = await wallet.rows(select(refresh_tokens))
    assert stored.token_hash != tokens["refresh_token"]  # only a digest is kept
    [event] = await wallet.rows(select(audit).where(audit.c.action == "user.registered"))
    assert (event.actor_type, event.actor_id) == ("user", user["id"])
    me = await wallet.client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.json()["id"] == user["id"]


async def test_a_device_id_is_made_up_when_the_client_has_none(wallet: Wallet) -> None:
    await wallet.ask_code()
    response = await wallet.client.post(
        "/v1/users",
        json={
            "phone": PHONE,
            "verification_code": await wallet.last_code(),
            "login_password": PASSWORD,
        },
        headers={"User-Agent": "ewallet-android/1.0"},
    )
    generated = response.json()["tokens"]["device_id"]
    assert generated.startswith("gen_")
    [device] = await wallet.rows(select(devices))
    assert (device.device_key, device.label) == (generated, "ewallet-android/1.0")
    again = await wallet.sign_in(device=generated)
    assert again.status_code == 201  # the same device, no step-up


async def test_a_registered_phone_is_told_only_after_its_code_was_proven(wallet: Wallet) -> None:
    await wallet.register()
    await wallet.ask_code()  # answered and texted exactly like for a new phone
    code = await wallet.last_code()
    before = await wallet.counts("users", "devices", "auth_sessions", "refresh_tokens")
    response = await wallet.client.post(
        "/v1/users",
        json={"phone": PHONE, "verification_code": code, "login_password": "another good one"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "phone_already_registered"
    assert await wallet.counts("users", "devices", "auth_sessions", "refresh_tokens") == before
    # The proven code is used up: replaying it says nothing more.
    replay = await wallet.client.post(
        "/v1/users",
        json={"phone": PHONE, "verification_code": code, "login_password": "another good one"},
    )
    assert replay.json()["code"] == "verification_code_expired"


async def test_a_weak_password_spends_no_code(wallet: Wallet) -> None:
    await wallet.ask_code()
    code = await wallet.last_code()
    before = await wallet.snapshot()
    response = await wallet.client.post(
        "/v1/users",
        json={"phone": PHONE, "verification_code": code, "login_password": "13812345678"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "weak_password"
    assert "contains_phone_number" in response.json()["reasons"]
    assert await wallet.snapshot() == before
    ok = await wallet.client.post(
        "/v1/users", json={"phone": PHONE, "verification_code": code, "login_password": PASSWORD}
    )
    assert ok.status_code == 201


async def test_no_code_asked_for_is_an_expired_code(wallet: Wallet) -> None:
    before = await wallet.snapshot()
    response = await wallet.client.post(
        "/v1/users",
        json={"phone": PHONE, "verification_code": "123456", "login_password": PASSWORD},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "verification_code_expired"
    assert await wallet.snapshot() == before


async def test_a_code_for_another_purpose_or_phone_does_not_register(wallet: Wallet) -> None:
    await wallet.ask_code(purpose="change_phone")
    code = await wallet.last_code()
    wallet.clock.advance(timedelta(seconds=61))
    await wallet.ask_code("13900001111")
    response = await wallet.client.post(
        "/v1/users", json={"phone": PHONE, "verification_code": code, "login_password": PASSWORD}
    )
    assert response.json()["code"] == "verification_code_expired"
    assert await wallet.count("users") == 0
