"""Changing the phone number: with both numbers' codes and the PIN, or reviewed by staff
when the old number is lost. Each refusal leaves the number, the sessions and the codes
as they were; each step is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ewallet.models.identity import CodePurpose
from ewallet.models.tables import phone_change_requests, verification_codes
from tests.fixtures.accounts import (
    LOGIN_PASSWORD,
    PIN,
    Harness,
    TestUser,
    assert_problem,
    make_id_number,
    outbox,
    sessions,
)
from tests.fixtures.staff import bearer, make_staff, staff_token

OLD = "+8613812345678"
NEW = "+8613987654321"
CHANGE = "/v1/me/phone-change"
REQUESTS = "/v1/me/phone-change-requests"
STAFF = "/v1/staff/phone-changes"
NAME = "张三"
ID_NUMBER = make_id_number()


async def codes(harness: Harness, *, old: str = OLD, new: str = NEW) -> tuple[str, str]:
    old_code = await harness.sms_code(old, CodePurpose.PHONE_CHANGE_OLD)
    new_code = await harness.sms_code(new, CodePurpose.CHANGE_PHONE)
    return old_code, new_code


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def change(harness: Harness, user: TestUser, **body: str) -> Any:
    return await harness.client.post(CHANGE, json=body, headers=harness.auth(user))


async def sign_in(harness: Harness, phone: str) -> Any:
    body = {"phone": phone, "login_password": LOGIN_PASSWORD}
    return await harness.client.post("/v1/sessions", json=body)


async def live_codes(harness: Harness) -> int:
    async with harness.engine.connect() as conn:
        rows = await conn.execute(
            select(verification_codes.c.id).where(
                verification_codes.c.consumed_at.is_(None),
                verification_codes.c.invalidated_at.is_(None),
            )
        )
        return len(rows.all())


async def sms_to(harness: Harness, phone: str) -> list[dict[str, Any]]:
    async with harness.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.payload).order_by(outbox.c.id))
        return [row.payload for row in rows if row.payload.get("to") == phone]


async def verified_user(harness: Harness, **kwargs: Any) -> TestUser:
    user = await harness.user(pin=PIN, **kwargs)
    response = await harness.client.post(
        "/v1/me/identity",
        json={"real_name": NAME, "id_number": ID_NUMBER},
        headers=harness.auth(user),
    )
    assert response.status_code in (200, 201), response.text
    return user


# --- With the old number -------------------------------------------------------------------


async def test_both_codes_and_the_pin_move_the_account(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    other = await harness.new_session(user.id)
    old_code, new_code = await codes(harness)
    response = await change(
        harness,
        user,
        new_phone="139 8765 4321",
        old_phone_code=old_code,
        new_phone_code=new_code,
        payment_password=PIN,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"phone": "139****4321", "changed_at": "2026-03-02T01:00:00Z"}
    assert (await harness.row(user)).phone == NEW
    async with harness.engine.connect() as conn:
        rows = await conn.execute(select(sessions.c.id, sessions.c.revoked_reason))
        revoked = {row.id: row.revoked_reason for row in rows}
    assert revoked == {user.session_id: None, other: "phone_changed"}
    assert await harness.kinds(user) == ["phone_changed_away", "phone_changed"]
    assert [sms["kind"] for sms in await sms_to(harness, OLD)] == ["phone_changed_away"]
    assert [sms["kind"] for sms in await sms_to(harness, NEW)] == ["phone_changed"]
    assert await harness.actions() == ["phone.changed"]
    # The old number no longer signs in; the new one finds the account.
    assert_problem(await sign_in(harness, OLD), 401, "invalid_credentials")
    signed = await sign_in(harness, NEW)
    assert signed.status_code == 201 or signed.json()["code"] == "step_up_required", signed.text
    # The calling session still works, and the profile shows the new number.
    me = await harness.client.get("/v1/me", headers=harness.auth(user))
    assert me.status_code == 200, me.text
    assert "4321" in me.text
    assert "5678" not in me.text


async def test_each_code_is_required_and_nothing_changes_without_it(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    old_code, new_code = await codes(harness)
    cases = [
        ({"old_phone_code": wrong(old_code), "new_phone_code": new_code}, "old_phone"),
        ({"old_phone_code": old_code, "new_phone_code": wrong(new_code)}, "new_phone"),
    ]
    for proof, which in cases:
        before = await harness.row(user)
        response = await change(harness, user, new_phone=NEW, payment_password=PIN, **proof)
        body = assert_problem(response, 400, "verification_code_invalid")
        assert body["code_for"] == which
        assert body["remaining_attempts"] == 4
        after = await harness.row(user)
        assert (after.phone, after.updated_at) == (before.phone, before.updated_at)
        assert await harness.kinds(user) == []
        assert await live_codes(harness) == 2  # neither code was used
    # A missing code is a malformed body: nothing is looked at.
    response = await change(
        harness, user, new_phone=NEW, old_phone_code=old_code, payment_password=PIN
    )
    assert_problem(response, 422, "validation_error")
    assert (await harness.row(user)).phone == OLD
    # No code ever texted to the new number: expired, with its label.
    other_new = "+8613700001111"
    response = await change(
        harness,
        user,
        new_phone=other_new,
        old_phone_code=old_code,
        new_phone_code="123456",
        payment_password=PIN,
    )
    body = assert_problem(response, 400, "verification_code_expired")
    assert body["code_for"] == "new_phone"
    assert await harness.actions() == ["phone.change_refused"] * 3
    assert (await harness.row(user)).phone == OLD


async def test_a_wrong_pin_stops_before_the_codes(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    old_code, new_code = await codes(harness)
    response = await change(
        harness,
        user,
        new_phone=NEW,
        old_phone_code=old_code,
        new_phone_code=new_code,
        payment_password="000001",
    )
    assert_problem(response, 403, "payment_password_invalid")
    assert (await harness.row(user)).phone == OLD
    assert await live_codes(harness) == 2


async def test_a_taken_number_is_refused_once_its_code_is_proven(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    taken = await harness.user(phone=NEW)
    old_code, new_code = await codes(harness)
    body = {"new_phone": NEW, "old_phone_code": old_code, "new_phone_code": new_code}
    response = await change(harness, user, payment_password=PIN, **body)
    assert_problem(response, 409, "phone_already_registered")
    assert (await harness.row(user)).phone == OLD
    assert (await harness.row(taken)).phone == NEW
    assert await live_codes(harness) == 0  # used up, as registration does
    assert await harness.actions() == ["phone.change_refused"]
    # Proving nothing tells nothing: a wrong new-number code gets the code's answer.
    old_code, new_code = await codes(harness)
    body = {"new_phone": NEW, "old_phone_code": old_code, "new_phone_code": wrong(new_code)}
    response = await change(harness, user, payment_password=PIN, **body)
    assert_problem(response, 400, "verification_code_invalid")


async def test_the_same_number_and_a_frozen_account_are_refused(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    old_code, new_code = await codes(harness, new=OLD)
    body = {"old_phone_code": old_code, "new_phone_code": new_code, "payment_password": PIN}
    assert_problem(await change(harness, user, new_phone=OLD, **body), 422, "phone_unchanged")
    frozen = await harness.client.post(
        "/v1/me/freeze", json={"payment_password": PIN}, headers=harness.auth(user)
    )
    assert frozen.status_code == 200, frozen.text
    old_code, new_code = await codes(harness)
    body = {"old_phone_code": old_code, "new_phone_code": new_code, "payment_password": PIN}
    assert_problem(await change(harness, user, new_phone=NEW, **body), 423, "account_frozen")
    assert (await harness.row(user)).phone == OLD


async def test_codes_are_sent_to_each_number_and_audited(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    headers = harness.auth(user)
    sent = await harness.client.post(f"{CHANGE}/old-number-code", headers=headers)
    assert sent.status_code == 202, sent.text
    sent = await harness.client.post(
        f"{CHANGE}/new-number-code", json={"new_phone": NEW}, headers=headers
    )
    assert sent.status_code == 202, sent.text
    assert [sms["purpose"] for sms in await sms_to(harness, OLD)] == ["phone_change_old"]
    assert [sms["purpose"] for sms in await sms_to(harness, NEW)] == ["change_phone"]
    assert await harness.actions() == ["phone_change.code_sent"] * 2
    same = await harness.client.post(
        f"{CHANGE}/new-number-code", json={"new_phone": OLD}, headers=headers
    )
    assert_problem(same, 422, "phone_unchanged")
    unsigned = await harness.client.post(f"{CHANGE}/old-number-code")
    assert_problem(unsigned, 401, "unauthorized")


# --- Without it: a reviewed request --------------------------------------------------------


async def ask(harness: Harness, user: TestUser, **changes: str) -> Any:
    code = await harness.sms_code(changes.pop("new_phone", NEW), CodePurpose.CHANGE_PHONE)
    body = {"new_phone": NEW, "new_phone_code": code, "real_name": NAME, "id_number": ID_NUMBER}
    body.update(changes)
    return await harness.client.post(REQUESTS, json=body, headers=harness.auth(user))


async def staff_headers(harness: Harness, role: str) -> dict[str, str]:
    login = await make_staff(harness.engine, harness.security, harness.clock, role)
    token = await staff_token(
        harness.engine, harness.security, harness.settings, harness.clock, login.id
    )
    return bearer(token)


async def test_a_reviewed_request_is_approved_once(harness: Harness) -> None:
    user = await verified_user(harness)
    other = await harness.new_session(user.id)
    response = await ask(harness, user)
    assert response.status_code == 201, response.text
    request = response.json()["request"]
    assert (request["state"], request["old_phone"], request["new_phone"]) == (
        "pending",
        "138****5678",
        "139****4321",
    )
    assert_problem(await ask(harness, user), 409, "phone_change_pending")
    agent = await staff_headers(harness, "support_agent")
    queue = await harness.client.get(STAFF, headers=agent)
    assert queue.status_code == 200, queue.text
    assert [item["new_phone"] for item in queue.json()["items"]] == [NEW]
    path = f"{STAFF}/{request['id']}"
    approved = await harness.client.post(f"{path}/approve", json={"note": "ID seen"}, headers=agent)
    assert approved.status_code == 200, approved.text
    assert approved.json()["request"]["state"] == "approved"
    assert (await harness.row(user)).phone == NEW
    async with harness.engine.connect() as conn:
        rows = await conn.execute(select(sessions.c.id, sessions.c.revoked_reason))
        revoked = {row.id: row.revoked_reason for row in rows}
    assert revoked == {user.session_id: "phone_changed", other: "phone_changed"}
    again = await harness.client.post(f"{path}/approve", json={"note": "again"}, headers=agent)
    assert_problem(again, 409, "phone_change_not_pending")
    rejected = await harness.client.post(f"{path}/reject", json={"note": "late"}, headers=agent)
    assert_problem(rejected, 409, "phone_change_not_pending")
    actions = [action for action in await harness.actions() if action.startswith("phone")]
    assert actions == ["phone_change.requested", "phone.changed", "phone_change.approved"]


async def test_a_rejected_request_leaves_the_number(harness: Harness) -> None:
    user = await verified_user(harness)
    request_id = (await ask(harness, user)).json()["request"]["id"]
    officer = await staff_headers(harness, "risk_officer")
    path = f"{STAFF}/{request_id}"
    rejected = await harness.client.post(
        f"{path}/reject", json={"note": "ID photo unreadable"}, headers=officer
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["request"]["note"] == "ID photo unreadable"
    assert (await harness.row(user)).phone == OLD
    assert (await harness.kinds(user))[-1] == "phone_change_rejected"
    assert (await harness.actions())[-1] == "phone_change.rejected"
    mine = await harness.client.get(f"{REQUESTS}/{request_id}", headers=harness.auth(user))
    assert mine.json()["request"]["state"] == "rejected"


async def test_requests_are_the_owners_and_the_review_is_staffs(harness: Harness) -> None:
    user = await verified_user(harness)
    stranger = await harness.user(phone="+8613600002222")
    request_id = (await ask(harness, user)).json()["request"]["id"]
    theirs = await harness.client.get(f"{REQUESTS}/{request_id}", headers=harness.auth(stranger))
    assert_problem(theirs, 404, "not_found")
    listed = await harness.client.get(REQUESTS, headers=harness.auth(stranger))
    assert listed.json() == {"items": []}
    path = f"{STAFF}/{request_id}/approve"
    # A customer's token is no staff token; a teller's role does not allow it.
    as_user = await harness.client.post(path, json={"note": "x"}, headers=harness.auth(user))
    assert as_user.status_code == 401, as_user.text
    teller = await staff_headers(harness, "teller")
    assert_problem(
        await harness.client.post(path, json={"note": "x"}, headers=teller), 403, "forbidden"
    )
    assert_problem(await harness.client.get(STAFF), 401, "unauthorized")
    agent = await staff_headers(harness, "support_agent")
    missing = await harness.client.get(f"{STAFF}/pcr_nope", headers=agent)
    assert_problem(missing, 404, "not_found")
    assert (await harness.row(user)).phone == OLD
    assert await harness.count(phone_change_requests) == 1


async def test_a_wrong_identity_uses_the_code_and_counts(harness: Harness) -> None:
    user = await verified_user(harness)
    for left in (4, 3, 2, 1, 0):
        response = await ask(harness, user, real_name="李四")
        body = assert_problem(response, 403, "identity_mismatch")
        assert body["remaining_attempts"] == left
    response = await ask(harness, user)  # the right identity, but the day's tries are spent
    assert assert_problem(response, 429, "too_many_attempts")["retry_after"] > 0
    assert await harness.count(phone_change_requests) == 0
    assert (await harness.row(user)).phone == OLD


async def test_an_account_without_a_real_name_is_sent_to_the_hotline(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    assert_problem(await ask(harness, user), 409, "real_name_not_verified")
    assert await harness.count(phone_change_requests) == 0


async def test_a_change_with_codes_supersedes_a_pending_request(harness: Harness) -> None:
    user = await verified_user(harness)
    request_id = (await ask(harness, user)).json()["request"]["id"]
    old_code, new_code = await codes(harness, new="+8613700003333")
    body = {"old_phone_code": old_code, "new_phone_code": new_code, "payment_password": PIN}
    response = await change(harness, user, new_phone="+8613700003333", **body)
    assert response.status_code == 200, response.text
    mine = await harness.client.get(f"{REQUESTS}/{request_id}", headers=harness.auth(user))
    assert mine.json()["request"]["state"] == "rejected"
