"""Parallel bursts of sign-ins: the lock's budget is reserved before argon2 runs.

Every request of a burst goes through the served app at once (``asyncio.gather`` over the
ASGI client), on SQLite and PostgreSQL. What is counted is the argon2 verifications that
really ran: a burst gets exactly ``login_lock_threshold`` of them, every other request is
refused with ``429 too_many_attempts`` before any hashing, and a right password checked
within the budget signs in.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.models.identity import User
from ewallet.models.operations import AuditEvent
from ewallet.security.passwords import Hasher
from tests.fixtures.identity import PASSWORD, PHONE, Wallet, running
from tests.fixtures.serving import serving
from tests.fixtures.staff import START as STAFF_START
from tests.fixtures.staff import StaffLogin, fast, make_staff

STRANGER = "13900001111"
BURST = 30
THRESHOLD = 5


@pytest.fixture
def burst_settings(fast_settings: Settings) -> Settings:
    # The per-address budget is not what is tested: let the whole burst reach the account.
    return fast_settings.model_copy(
        update={"login_per_ip_minute": 1000, "login_lock_threshold": THRESHOLD}
    )


@pytest.fixture
async def wallet(burst_settings: Settings) -> AsyncIterator[Wallet]:
    async with running(burst_settings) as served:
        yield served


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The secrets argon2 really compared, in order (every hasher of the process)."""
    seen: list[str] = []
    original = Hasher.verify

    async def counting(self: Hasher, stored_hash: str, secret: str) -> bool:
        seen.append(secret)
        return await original(self, stored_hash, secret)

    monkeypatch.setattr(Hasher, "verify", counting)
    return seen


async def _burst(wallet: Wallet, bodies: list[dict[str, str]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*(wallet.client.post("/v1/sessions", json=b) for b in bodies)))


def _codes(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter((r.status_code, r.json().get("code", "")) for r in responses)


async def _actions(wallet: Wallet) -> Counter[str]:
    events = AuditEvent.__table__
    rows = await wallet.rows(select(events.c.action))
    return Counter(row.action for row in rows)


def _guesses(phone: str, count: int) -> list[dict[str, str]]:
    return [
        {"phone": phone, "login_password": f"wrong guess {i}", "device_id": "phone-1"}
        for i in range(count)
    ]


async def test_a_burst_of_guesses_gets_exactly_the_threshold_of_checks(
    wallet: Wallet, verifications: list[str]
) -> None:
    await wallet.register()
    verifications.clear()
    responses = await _burst(wallet, _guesses(PHONE, BURST))
    assert len(verifications) == THRESHOLD  # argon2 ran for the budget, never more
    assert _codes(responses) == {
        (401, "invalid_credentials"): THRESHOLD - 1,
        (429, "too_many_attempts"): BURST - THRESHOLD + 1,  # the last check locked it
    }
    assert all(
        r.json()["retry_after"] == 15 * 60 and r.headers["Retry-After"] == "900"
        for r in responses
        if r.status_code == 429
    )
    actions = await _actions(wallet)
    assert actions["auth.sign_in_failed"] == THRESHOLD
    assert actions["auth.login_locked"] == 1
    assert actions["auth.sign_in_refused_locked"] == BURST - THRESHOLD
    [row] = await wallet.rows(select(User.__table__))
    assert row.login_failures == THRESHOLD  # not reset when the lock engaged
    assert row.login_locked_until is not None
    # Locked: the right password is refused unchecked, and nothing more is counted.
    verifications.clear()
    refused = await wallet.sign_in()
    assert (refused.status_code, refused.json()["code"]) == (429, "too_many_attempts")
    assert verifications == []


async def test_a_stranger_burst_is_answered_like_an_account_burst(
    wallet: Wallet, verifications: list[str]
) -> None:
    await wallet.register()
    verifications.clear()
    account = await _burst(wallet, _guesses(PHONE, BURST))
    checked_for_account = len(verifications)
    stranger = await _burst(wallet, _guesses(STRANGER, BURST))
    assert len(verifications) - checked_for_account == THRESHOLD == checked_for_account
    assert _codes(stranger) == _codes(account)
    assert sorted(r.json().get("retry_after", 0) for r in stranger) == sorted(
        r.json().get("retry_after", 0) for r in account
    )


async def test_the_right_password_within_the_budget_signs_in_despite_the_burst(
    wallet: Wallet, verifications: list[str]
) -> None:
    await wallet.register()
    verifications.clear()
    right = {"phone": PHONE, "login_password": PASSWORD, "device_id": "phone-1"}
    # The right one in the middle of as many requests as the budget: all are checked.
    bodies = _guesses(PHONE, THRESHOLD - 1)
    bodies.insert(2, right)
    responses = await _burst(wallet, bodies)
    assert len(verifications) == THRESHOLD
    assert responses[2].status_code == 201, responses[2].text
    assert {r.status_code for i, r in enumerate(responses) if i != 2} <= {401, 429}
    # The right password won: whatever the wrong ones did around it, no lock remains.
    assert (await wallet.sign_in()).status_code == 201
    [row] = await wallet.rows(select(User.__table__))
    assert row.login_locked_until is None


async def test_a_served_lock_gives_a_fresh_budget(wallet: Wallet, verifications: list[str]) -> None:
    await wallet.register()
    burst = 2 * THRESHOLD
    await _burst(wallet, _guesses(PHONE, burst))
    await _burst(wallet, _guesses(STRANGER, burst))
    wallet.clock.advance(timedelta(minutes=15))  # both locks have run out
    verifications.clear()
    account = await _burst(wallet, _guesses(PHONE, burst))
    stranger = await _burst(wallet, _guesses(STRANGER, burst))
    assert len(verifications) == 2 * THRESHOLD
    assert _codes(account) == _codes(stranger)
    assert _codes(account)[(401, "invalid_credentials")] == THRESHOLD - 1


# --- Staff sign-in has the same shape ---------------------------------------------------


@pytest.fixture
async def staff_client(
    engine: AsyncEngine, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, StaffLogin, FrozenClock]]:
    clock = FrozenClock(STAFF_START)
    quick = fast(settings).model_copy(
        update={"login_per_ip_minute": 1000, "login_lock_threshold": THRESHOLD}
    )
    app = create_app(quick, clock=clock)
    async with serving(app) as client:
        teller = await make_staff(engine, app.state.security, clock, "teller")
        yield client, teller, clock


async def _staff_burst(
    client: httpx.AsyncClient, bodies: list[dict[str, Any]]
) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.post("/v1/staff/sessions", json=b) for b in bodies)))


async def test_a_staff_burst_gets_exactly_the_threshold_of_checks(
    staff_client: tuple[httpx.AsyncClient, StaffLogin, FrozenClock], verifications: list[str]
) -> None:
    client, teller, clock = staff_client
    verifications.clear()
    wrong = [teller.body(clock, password=f"wrong password {i}") for i in range(BURST)]
    known = await _staff_burst(client, wrong)
    assert len(verifications) == THRESHOLD
    assert _codes(known) == {
        (401, "invalid_credentials"): THRESHOLD,
        (429, "too_many_attempts"): BURST - THRESHOLD,
    }
    # An unknown email: the same answers, the same number of (dummy) checks.
    verifications.clear()
    unknown = await _staff_burst(
        client, [{**body, "email": "nobody@bank.example"} for body in wrong]
    )
    assert len(verifications) == THRESHOLD
    assert _codes(unknown) == _codes(known)


async def test_the_right_staff_password_within_the_budget_signs_in(
    staff_client: tuple[httpx.AsyncClient, StaffLogin, FrozenClock], verifications: list[str]
) -> None:
    client, teller, clock = staff_client
    verifications.clear()
    bodies = [teller.body(clock, password=f"wrong password {i}") for i in range(THRESHOLD - 1)]
    bodies.insert(1, teller.body(clock))
    responses = await _staff_burst(client, bodies)
    assert len(verifications) == THRESHOLD
    assert responses[1].status_code == 201, responses[1].text


async def test_a_staff_password_change_burst_gets_exactly_the_threshold_of_checks(
    staff_client: tuple[httpx.AsyncClient, StaffLogin, FrozenClock], verifications: list[str]
) -> None:
    # A stolen console session guessing the current password in parallel: each proof is
    # counted before argon2 runs, so the burst gets the sign-in budget and no more, and
    # the lock then refuses even the right password, unchecked.
    client, teller, clock = staff_client
    signed_in = await client.post("/v1/staff/sessions", json=teller.body(clock))
    assert signed_in.status_code == 201, signed_in.text
    headers = {"Authorization": f"Bearer {signed_in.json()['tokens']['access_token']}"}
    verifications.clear()
    guesses = await asyncio.gather(
        *(
            client.put(
                "/v1/staff/me/password",
                json={"current_password": f"guess {i}", "new_password": "a long new passphrase"},
                headers=headers,
            )
            for i in range(BURST)
        )
    )
    assert len(verifications) == THRESHOLD
    assert _codes(list(guesses)) == {
        (401, "invalid_credentials"): THRESHOLD,
        (429, "too_many_attempts"): BURST - THRESHOLD,
    }
    verifications.clear()
    right = await client.put(
        "/v1/staff/me/password",
        json={"current_password": teller.password, "new_password": "a long new passphrase"},
        headers=headers,
    )
    assert right.status_code == 429
    assert verifications == []
