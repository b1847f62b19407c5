"""The authenticator: enrol, confirm, no reuse, ±1 step, recovery codes, turning it off."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from ewallet.identity.totp.otp import matching_step
from ewallet.identity.totp.service import totp_enabled, use_recovery_code
from ewallet.models.identity import User
from tests.fixtures.accounts import START, Harness, TestUser, assert_problem

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


async def enrolled(harness: Harness, user: TestUser) -> tuple[str, list[str]]:
    """Enrol and confirm; returns the secret and the recovery codes."""
    response = await harness.client.post("/v1/me/totp", headers=harness.auth(user))
    assert response.status_code == 201, response.text
    secret = response.json()["secret"]
    response = await harness.client.post(
        "/v1/me/totp/confirm",
        json={"totp_code": harness.totp_now(secret)},
        headers=harness.auth(user),
    )
    assert response.status_code == 200, response.text
    return secret, response.json()["recovery_codes"]


async def disable(harness: Harness, user: TestUser, **proof: str) -> tuple[int, dict[str, object]]:
    response = await harness.client.request(
        "DELETE", "/v1/me/totp", json=proof, headers=harness.auth(user)
    )
    return response.status_code, (response.json() if response.content else {})


@pytest.mark.parametrize(
    ("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
def test_window_is_one_step_either_side(steps: int, accepted: bool) -> None:
    now = 1_780_000_000
    code = pyotp.TOTP(SECRET).at(now + 30 * steps)
    assert (matching_step(SECRET, code, now) is not None) is accepted


def test_totp_enabled_reads_the_confirmation() -> None:
    assert not totp_enabled(User(totp_enabled_at=None))
    assert totp_enabled(User(totp_enabled_at=START))


async def test_enrolment_is_pending_until_confirmed(harness: Harness) -> None:
    user = await harness.user()
    response = await harness.client.post("/v1/me/totp", headers=harness.auth(user))
    assert response.status_code == 201
    body = response.json()
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == "/ewallet:138%2A%2A%2A%2A5678"
    assert parse_qs(uri.query)["issuer"] == ["ewallet"]
    assert parse_qs(uri.query)["secret"] == [body["secret"]]
    row = await harness.row(user)
    assert row.totp_enabled_at is None
    assert body["secret"] not in row.totp_secret_encrypted
    stored = harness.security.cipher.decrypt(row.totp_secret_encrypted, context=f"totp:{user.id}")
    assert stored == body["secret"]
    assert await harness.actions() == ["totp.enrolment_started"]
    assert await harness.kinds(user) == []


async def test_confirm_turns_it_on_with_ten_recovery_codes(harness: Harness) -> None:
    user = await harness.user()
    _, codes = await enrolled(harness, user)
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}", code) for code in codes)
    snap = await harness.snapshot(user)
    assert snap["recovery_codes"] == 10
    assert snap["user"]["totp_enabled_at"] == harness.clock.now()
    assert await harness.kinds(user) == ["totp_enabled"]
    assert await harness.actions() == ["totp.enrolment_started", "totp.enabled"]
    # Turned on: no second enrolment, no second confirmation.
    before = await harness.snapshot(user)
    response = await harness.client.post("/v1/me/totp", headers=harness.auth(user))
    assert_problem(response, 409, "totp_already_enabled")
    response = await harness.client.post(
        "/v1/me/totp/confirm", json={"totp_code": "123456"}, headers=harness.auth(user)
    )
    assert_problem(response, 409, "totp_already_enabled")
    assert await harness.snapshot(user) == before


async def test_confirm_refusals_change_nothing(harness: Harness) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    response = await harness.client.post(
        "/v1/me/totp/confirm", json={"totp_code": "123456"}, headers=harness.auth(user)
    )
    assert_problem(response, 409, "totp_not_enabled")
    assert await harness.snapshot(user) == before
    secret = (await harness.client.post("/v1/me/totp", headers=harness.auth(user))).json()["secret"]
    before = await harness.snapshot(user)
    wrong = harness.totp_now(secret, steps=3)
    response = await harness.client.post(
        "/v1/me/totp/confirm", json={"totp_code": wrong}, headers=harness.auth(user)
    )
    assert_problem(response, 400, "totp_invalid")
    assert await harness.snapshot(user) == before


async def test_a_code_is_never_accepted_twice(harness: Harness) -> None:
    user = await harness.user()
    secret, _ = await enrolled(harness, user)
    used = harness.totp_now(secret)  # the code that confirmed the enrolment
    before = await harness.snapshot(user)
    status, body = await disable(harness, user, totp_code=used)
    assert (status, body["code"], body["remaining_attempts"]) == (400, "totp_invalid", 4)
    after = await harness.snapshot(user)
    assert after["user"] == before["user"]
    assert after["audit"] == before["audit"] + 1  # the failure is on record
    assert (await harness.actions())[-1] == "totp.disable_failed"
    # Next step: the code of the previous step is still in the window, but already used.
    harness.clock.advance(timedelta(seconds=30))
    status, _ = await disable(harness, user, totp_code=harness.totp_now(secret, steps=-1))
    assert status == 400
    status, _ = await disable(harness, user, totp_code=harness.totp_now(secret, steps=1))
    assert status == 204
    row = await harness.row(user)
    assert (row.totp_secret_encrypted, row.totp_enabled_at, row.totp_last_step) == (
        None,
        None,
        None,
    )
    assert (await harness.snapshot(user))["recovery_codes"] == 0
    assert await harness.kinds(user) == ["totp_enabled", "totp_disabled"]


async def test_recovery_codes_work_once(harness: Harness) -> None:
    user = await harness.user()
    _, codes = await enrolled(harness, user)
    async with harness.engine.begin() as conn:
        assert await use_recovery_code(
            conn,
            clock=harness.clock,
            digest=harness.security.digest,
            user_id=user.id,
            code=codes[0],
        )
        assert not await use_recovery_code(
            conn,
            clock=harness.clock,
            digest=harness.security.digest,
            user_id=user.id,
            code=codes[0],
        )
    assert (await harness.snapshot(user))["spent_recovery_codes"] == 1
    status, body = await disable(harness, user, recovery_code=codes[0])
    assert (status, body["code"]) == (400, "totp_invalid")
    # Case and dashes do not matter; the second code turns it off.
    status, _ = await disable(harness, user, recovery_code=codes[1].upper().replace("-", " "))
    assert status == 204
    # Codes of a previous enrolment never come back.
    _, fresh = await enrolled(harness, user)
    status, _ = await disable(harness, user, recovery_code=codes[2])
    assert status == 400
    assert set(fresh).isdisjoint(codes)


async def test_disable_refusals(harness: Harness) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    status, body = await disable(harness, user, totp_code="123456")
    assert (status, body["code"]) == (409, "totp_not_enabled")
    status, body = await disable(harness, user, totp_code="123456", recovery_code="x")
    assert (status, body["code"]) == (422, "validation_error")
    status, body = await disable(harness, user)
    assert (status, body["code"]) == (422, "validation_error")
    assert await harness.snapshot(user) == before


async def test_wrong_codes_to_turn_it_off_are_limited(harness: Harness) -> None:
    user = await harness.user()
    secret, _ = await enrolled(harness, user)
    for left in (4, 3, 2, 1):
        status, body = await disable(harness, user, recovery_code="0000-0000-0000")
        assert (status, body["remaining_attempts"]) == (400, left)
    # The fifth wrong code spends the account's budget of codes: locked for 30 minutes.
    status, body = await disable(harness, user, recovery_code="0000-0000-0000")
    assert (status, body["code"], body["retry_after"]) == (429, "too_many_attempts", 30 * 60)
    harness.clock.advance(timedelta(seconds=60))
    status, body = await disable(harness, user, totp_code=harness.totp_now(secret))
    assert (status, body["code"], body["retry_after"]) == (429, "too_many_attempts", 30 * 60 - 60)
    assert (await harness.row(user)).totp_enabled_at is not None
    assert await harness.kinds(user) == ["totp_enabled", "totp_locked"]
    harness.clock.advance(timedelta(minutes=29))
    status, _ = await disable(harness, user, totp_code=harness.totp_now(secret))
    assert status == 204
