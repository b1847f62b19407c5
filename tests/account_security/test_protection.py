"""Freezing, unfreezing, the anti-phishing code and the notices list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.identity.errors import AccountFrozenError, AccountNotFrozenError
from ewallet.identity.guards import ensure_not_frozen
from ewallet.identity.payment_password.service import verify_payment_password
from ewallet.identity.protection.service import freeze_user, unfreeze_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import (
    PIN,
    Harness,
    TestUser,
    assert_problem,
    audit_events,
    outbox,
    sessions,
)

FREEZE = "/v1/me/freeze"


async def freeze(harness: Harness, user: TestUser, **proof: str) -> Any:
    return await harness.client.post(FREEZE, json=proof, headers=harness.auth(user))


async def pay_status(harness: Harness, user: TestUser) -> tuple[int, str | None]:
    response = await harness.client.post(
        "/test/pay", json={"payment_password": PIN}, headers=harness.auth(user)
    )
    return response.status_code, response.json().get("code")


# --- Freezing ----------------------------------------------------------------------------


async def test_freeze_with_the_pin_stops_money_at_once(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    other = await harness.new_session(user.id)
    response = await freeze(harness, user, payment_password=PIN)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "frozen", "frozen_at": "2026-03-02T01:00:00Z"}
    row = await harness.row(user)
    assert (row.status, row.frozen_by, row.frozen_at) == ("frozen", "self", harness.clock.now())
    async with harness.engine.connect() as conn:
        rows = await conn.execute(select(sessions.c.id, sessions.c.revoked_reason))
        revoked = {row.id: row.revoked_reason for row in rows}
    assert revoked == {user.session_id: None, other: "account_frozen"}
    assert await harness.kinds(user) == ["account_frozen"]
    assert await harness.actions() == ["account.frozen"]
    async with harness.engine.connect() as conn:
        sms = (await conn.execute(select(outbox.c.payload))).scalar_one()
    assert "95588" in sms["body"]
    # Every money action now answers account_frozen, and so does a PIN change.
    before = await harness.snapshot(user)
    assert await pay_status(harness, user) == (423, "account_frozen")
    response = await harness.client.put(
        "/v1/me/payment-password",
        json={"current_payment_password": PIN, "payment_password": "730492"},
        headers=harness.auth(user),
    )
    assert_problem(response, 423, "account_frozen")
    assert_problem(await freeze(harness, user, payment_password=PIN), 423, "account_frozen")
    assert await harness.snapshot(user) == before


async def test_freeze_with_an_sms_code(harness: Harness) -> None:
    user = await harness.user()  # no PIN needed
    code = await harness.sms_code(user.phone, CodePurpose.FREEZE)
    wrong = "000000" if code != "000000" else "111111"
    before = await harness.snapshot(user)
    response = await freeze(harness, user, verification_code=wrong)
    assert_problem(response, 400, "verification_code_invalid")
    assert await harness.snapshot(user) == before
    response = await freeze(harness, user, verification_code=code)
    assert response.status_code == 200, response.text
    assert (await harness.row(user)).status == "frozen"
    # Already frozen: the code endpoint's code is not even looked at.
    before = await harness.snapshot(user)
    response = await freeze(harness, user, verification_code=code)
    assert_problem(response, 423, "account_frozen")
    assert await harness.snapshot(user) == before


async def test_freeze_with_a_wrong_pin_counts_and_does_not_freeze(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    response = await freeze(harness, user, payment_password="000001")
    assert assert_problem(response, 403, "payment_password_invalid")["remaining_attempts"] == 2
    row = await harness.row(user)
    assert (row.status, row.payment_failures) == ("active", 1)


@pytest.mark.parametrize("proof", [{}, {"payment_password": PIN, "verification_code": "123456"}])
async def test_freeze_needs_exactly_one_proof(harness: Harness, proof: dict[str, str]) -> None:
    user = await harness.user(pin=PIN)
    before = await harness.snapshot(user)
    assert_problem(await freeze(harness, user, **proof), 422, "validation_error")
    assert await harness.snapshot(user) == before


async def test_a_freeze_after_the_pin_check_still_stops_the_money_unit(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    actor = Actor("user", user.id)
    await verify_payment_password(
        harness.engine,
        clock=harness.clock,
        settings=harness.settings,
        security=harness.security,
        user_id=user.id,
        pin=PIN,
        actor=actor,
    )

    async def risk_freeze(uow: UnitOfWork) -> None:
        await freeze_user(
            uow,
            clock=harness.clock,
            user_id=user.id,
            frozen_by="risk",
            reason="velocity",
            hotline="95588",
            actor=Actor.system(),
        )

    await run_unit(harness.engine, risk_freeze)

    async def money(uow: UnitOfWork) -> None:
        await ensure_not_frozen(await uow.connection(), user_id=user.id)

    with pytest.raises(AccountFrozenError):
        await run_unit(harness.engine, money)


async def test_staff_unfreeze(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    assert (await freeze(harness, user, payment_password=PIN)).status_code == 200

    async def unfreeze(uow: UnitOfWork) -> None:
        await unfreeze_user(
            uow, clock=harness.clock, user_id=user.id, staff_id="stf_1", reason="owner at counter"
        )

    await run_unit(harness.engine, unfreeze)
    row = await harness.row(user)
    assert (row.status, row.frozen_at, row.frozen_by, row.frozen_reason) == (
        "active",
        None,
        None,
        None,
    )
    assert await harness.kinds(user) == ["account_frozen", "account_unfrozen"]
    async with harness.engine.connect() as conn:
        last = (
            await conn.execute(select(audit_events).order_by(audit_events.c.id.desc()).limit(1))
        ).one()
    assert (last.action, last.actor_type, last.actor_id) == ("account.unfrozen", "staff", "stf_1")
    assert last.details == {"reason": "owner at counter", "was_frozen_by": "self"}
    assert await pay_status(harness, user) == (201, None)
    before = await harness.snapshot(user)
    with pytest.raises(AccountNotFrozenError):
        await run_unit(harness.engine, unfreeze)
    assert await harness.snapshot(user) == before


# --- Anti-phishing code ------------------------------------------------------------------


async def test_anti_phishing_code_prefixes_our_messages(harness: Harness) -> None:
    user = await harness.user()
    response = await harness.client.put(
        "/v1/me/anti-phishing-code", json={"code": "小明２０２4"}, headers=harness.auth(user)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"anti_phishing_code": "小明2024"}
    assert (await harness.row(user)).anti_phishing_code == "小明2024"
    async with harness.engine.connect() as conn:
        sms = (await conn.execute(select(outbox.c.payload))).scalar_one()
    assert sms["body"].startswith("[防伪码: 小明2024] ")
    assert await harness.actions() == ["anti_phishing_code.changed"]
    response = await harness.client.delete("/v1/me/anti-phishing-code", headers=harness.auth(user))
    assert response.status_code == 204
    assert (await harness.row(user)).anti_phishing_code is None


@pytest.mark.parametrize("code", ["a", "abcdefghi", "ab cd", "ab-c", "hi🙂", "", "  "])
async def test_bad_anti_phishing_codes(harness: Harness, code: str) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    response = await harness.client.put(
        "/v1/me/anti-phishing-code", json={"code": code}, headers=harness.auth(user)
    )
    assert_problem(response, 422, "validation_error")
    assert await harness.snapshot(user) == before


# --- Notices -----------------------------------------------------------------------------


async def notices(harness: Harness, user: TestUser, **params: Any) -> Any:
    headers = harness.auth(user, **{"Accept-Language": params.pop("lang", "zh-CN")})
    return await harness.client.get("/v1/me/notifications", params=params, headers=headers)


async def test_notices_newest_first_in_the_readers_language(harness: Harness) -> None:
    user = await harness.user()
    for code in ("ab12", "cd34", "ef56"):
        await harness.client.put(
            "/v1/me/anti-phishing-code", json={"code": code}, headers=harness.auth(user)
        )
        harness.clock.advance(timedelta(minutes=1))
    await harness.client.post("/v1/me/totp", headers=harness.auth(user))  # no notice
    response = await notices(harness, user, lang="en")
    items = response.json()["items"]
    assert [item["kind"] for item in items] == ["anti_phishing_code_changed"] * 3
    assert [item["created_at"] for item in items] == sorted(
        (item["created_at"] for item in items), reverse=True
    )
    assert items[0]["title"] == "Security phrase updated"
    assert "2 Mar 2026, 09:02 (Beijing time)" in items[0]["body"]  # 01:02 UTC
    assert (items[0]["read"], items[0]["security"]) == (False, True)
    zh = (await notices(harness, user)).json()["items"][0]
    assert zh["title"] == "防伪码已更新"
    assert "您的防伪码已于 2026年3月2日 09:02 更新" in zh["body"]
    # Pages of one, then the end.
    seen, cursor = [], None
    while True:
        page = (
            await notices(harness, user, limit=1, **({"cursor": cursor} if cursor else {}))
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["id"] for item in items]


async def test_marking_read_and_other_peoples_notices(harness: Harness) -> None:
    owner = await harness.user(phone="+8613900000001")
    intruder = await harness.user(phone="+8613900000002")
    await harness.client.put(
        "/v1/me/anti-phishing-code", json={"code": "ab12"}, headers=harness.auth(owner)
    )
    notice_id = (await notices(harness, owner)).json()["items"][0]["id"]
    before = await harness.snapshot(owner)
    url = f"/v1/me/notifications/{notice_id}/read"
    assert_problem(await harness.client.post(url, headers=harness.auth(intruder)), 404, "not_found")
    assert (await notices(harness, intruder)).json() == {"items": [], "next_cursor": None}
    assert await harness.snapshot(owner) == before
    response = await harness.client.post(url, headers=harness.auth(owner))
    assert response.status_code == 204
    assert (await notices(harness, owner)).json()["items"][0]["read"] is True
    assert (await harness.client.post(url, headers=harness.auth(owner))).status_code == 204
    missing = "/v1/me/notifications/ntf_nope/read"
    assert_problem(
        await harness.client.post(missing, headers=harness.auth(owner)), 404, "not_found"
    )


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"cursor": "%%%"}, {"cursor": "e30"}]
)
async def test_bad_list_parameters(harness: Harness, params: dict[str, Any]) -> None:
    user = await harness.user()
    assert_problem(await notices(harness, user, **params), 422, "validation_error")


async def test_freeze_with_a_pin_needs_a_pin(harness: Harness) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    response = await freeze(harness, user, payment_password=PIN)
    assert_problem(response, 409, "payment_password_not_set")
    assert await harness.snapshot(user) == before
