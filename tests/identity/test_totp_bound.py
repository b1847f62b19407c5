"""Authenticator codes are bounded per account, across challenges and features.

A challenge allows a few wrong codes, but every password sign-in on a new device makes a
fresh one: without a bound on the account, a thief holding the password could try codes
for ever. ``totp_max_failures`` wrong codes within ``totp_failure_window_minutes`` lock
codes for ``totp_lock_minutes``; the owner is told (in-app and SMS) and it is audited.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from ewallet.config import Settings
from ewallet.kit.db.base import Base
from tests.fixtures.identity import E164, Wallet, bearer, running
from tests.identity.test_signin import enable_totp

audit = Base.metadata.tables["audit_events"]
notifications = Base.metadata.tables["notifications"]
LIMIT = 5  # the default totp_max_failures
LOCK_SECONDS = 30 * 60  # the default totp_lock_minutes


@pytest.fixture
async def wallet(fast_settings: Settings) -> AsyncIterator[Wallet]:
    # Many password sign-ins from one address: the per-address budget is not tested here.
    async with running(fast_settings.model_copy(update={"login_per_ip_minute": 1000})) as served:
        yield served


def wrong_code(totp: pyotp.TOTP, wallet: Wallet) -> str:
    now = wallet.clock.now()
    valid = {totp.at(now + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(code for code in ("000000", "000001", "000002", "000003") if code not in valid)


async def challenge(wallet: Wallet, device: str) -> str:
    problem = (await wallet.sign_in(device=device)).json()
    assert problem["code"] == "step_up_required", problem
    assert problem["methods"] == ["sms", "totp"]
    return str(problem["challenge_id"])


async def prove(wallet: Wallet, challenge_id: str, code: str) -> httpx.Response:
    return await wallet.client.post(
        "/v1/sessions/step-up", json={"challenge_id": challenge_id, "totp_code": code}
    )


async def actions(wallet: Wallet) -> Counter[str]:
    return Counter(row.action for row in await wallet.rows(select(audit.c.action)))


async def kinds(wallet: Wallet) -> list[str]:
    rows = await wallet.rows(select(notifications.c.kind).order_by(notifications.c.created_at))
    return [row.kind for row in rows]


async def test_twenty_wrong_codes_across_fresh_challenges_lock_the_codes(wallet: Wallet) -> None:
    user_id = (await wallet.register())["user"]["id"]
    totp = await enable_totp(wallet, user_id)
    answers: list[tuple[int, str, Any]] = []
    for attempt in range(20):
        if attempt % 4 == 0:  # a fresh challenge before its own budget runs out
            current = await challenge(wallet, f"thief-{attempt}")
        body = (await prove(wallet, current, wrong_code(totp, wallet))).json()
        answers.append((attempt, body["code"], body.get("remaining_attempts")))
    # Four wrong codes on the first challenge, the fifth (on the second) spends the bound.
    assert answers[:4] == [
        (0, "verification_code_invalid", 4),
        (1, "verification_code_invalid", 3),
        (2, "verification_code_invalid", 2),
        (3, "verification_code_invalid", 1),
    ]
    assert [code for _, code, _ in answers[4:]] == ["too_many_attempts"] * 16
    # The right code is refused too, with the time left, on a brand-new challenge.
    wallet.clock.advance(timedelta(minutes=1))
    fresh = await challenge(wallet, "thief-last")
    right = await prove(wallet, fresh, totp.at(wallet.clock.now()))
    assert (right.status_code, right.json()["code"]) == (429, "too_many_attempts")
    assert right.json()["retry_after"] == LOCK_SECONDS - 60
    assert right.headers["Retry-After"] == str(LOCK_SECONDS - 60)
    log = await actions(wallet)
    assert (log["totp.failed"], log["totp.locked"]) == (LIMIT, 1)  # refused ones unchecked
    # The owner is told, in the app and by SMS.
    assert (await kinds(wallet)).count("totp_locked") == 1
    texts = [row.body for row in await wallet.sms(E164)]
    assert sum("锁定" in text for text in texts) == 1
    # The lock ends on time; the right code then passes.
    wallet.clock.advance(timedelta(minutes=29))
    again = await challenge(wallet, "owner")
    passed = await prove(wallet, again, totp.at(wallet.clock.now()))
    assert passed.status_code == 201, passed.text


async def test_one_bound_for_step_up_and_turning_the_authenticator_off(wallet: Wallet) -> None:
    registered = await wallet.register()
    totp = await enable_totp(wallet, registered["user"]["id"])
    headers = bearer(registered["tokens"]["access_token"])
    current = await challenge(wallet, "thief")
    for _ in range(3):
        assert (await prove(wallet, current, wrong_code(totp, wallet))).status_code == 400
    off = {"recovery_code": "0000-0000-0000"}
    first = await wallet.client.request("DELETE", "/v1/me/totp", json=off, headers=headers)
    assert (first.status_code, first.json()["remaining_attempts"]) == (400, 1)
    second = await wallet.client.request("DELETE", "/v1/me/totp", json=off, headers=headers)
    assert (second.status_code, second.json()["retry_after"]) == (429, LOCK_SECONDS)
    # Locked everywhere: the right code neither turns it off nor passes a challenge.
    right = {"totp_code": totp.at(wallet.clock.now())}
    refused = await wallet.client.request("DELETE", "/v1/me/totp", json=right, headers=headers)
    assert refused.json()["code"] == "too_many_attempts"
    assert (await prove(wallet, current, right["totp_code"])).status_code == 429
    log = await actions(wallet)
    assert (log["totp.failed"], log["totp.disable_failed"], log["totp.locked"]) == (3, 2, 1)


async def test_parallel_wrong_codes_never_pass_the_bound(wallet: Wallet) -> None:
    user_id = (await wallet.register())["user"]["id"]
    totp = await enable_totp(wallet, user_id)
    challenges = [await challenge(wallet, f"thief-{i}") for i in range(12)]
    code = wrong_code(totp, wallet)
    responses = await asyncio.gather(*(prove(wallet, c, code) for c in challenges))
    codes = Counter(r.json()["code"] for r in responses)
    assert codes == {"verification_code_invalid": LIMIT - 1, "too_many_attempts": 12 - LIMIT + 1}
    log = await actions(wallet)
    assert (log["totp.failed"], log["totp.locked"]) == (LIMIT, 1)
    assert (await kinds(wallet)).count("totp_locked") == 1
