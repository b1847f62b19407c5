"""POST /v1/verification-codes: codes, their SMS, their limits, and no account enumeration."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ewallet.config import Settings
from ewallet.kit.db.base import Base
from tests.fixtures.identity import E164, PASSWORD, PHONE, Wallet, running

codes = Base.metadata.tables["verification_codes"]
outbox = Base.metadata.tables["outbox_events"]
PURPOSES = (
    "register",
    "login",
    "reset_login_password",
    "reset_payment_password",
    "change_phone",
    "step_up",
    "freeze",
)
OTHER = "13900001111"
OTHER_E164 = "+8613900001111"


async def test_a_code_is_texted_stored_hashed_and_expires(wallet: Wallet) -> None:
    response = await wallet.ask_code()
    assert response.status_code == 202
    assert response.json() == {"expires_in": 300, "resend_after": 60}
    [message] = await wallet.sms(E164)
    assert message.sender == "ewallet"
    assert message.code is not None
    assert len(message.code) == 6
    assert message.code.isdigit()
    assert f"验证码 {message.code}" in message.body
    assert "5分钟" in message.body
    assert "请勿告诉他人" in message.body
    [row] = await wallet.rows(select(codes))
    assert row.phone == E164
    assert row.purpose == "register"
    assert message.code not in row.code_hash  # a keyed digest, not the code
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    [event] = await wallet.rows(select(outbox))
    assert event.topic == "sms.send"
    assert event.payload["code"] == message.code
    assert event.status == "delivered"


async def test_sms_speaks_the_callers_language_and_carries_the_anti_phishing_code(
    wallet: Wallet,
) -> None:
    response = await wallet.client.post(
        "/v1/verification-codes",
        json={"phone": OTHER, "purpose": "register"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 202
    [message] = await wallet.sms(OTHER_E164)
    assert message.body.startswith(f"[ewallet] Your code is {message.code}, to create")
    await wallet.register()
    users = Base.metadata.tables["users"]
    async with wallet.engine.begin() as connection:
        await connection.execute(users.update().values(anti_phishing_code="青山绿水"))
    await wallet.ask_code(purpose="login")
    body = (await wallet.sms(E164))[-1].body
    assert body.startswith("[防伪码: 青山绿水] 【ewallet】验证码")
    assert "用于登录" in body


async def test_resend_waits_the_interval_per_phone_and_purpose(wallet: Wallet) -> None:
    assert (await wallet.ask_code()).status_code == 202
    before = await wallet.snapshot()
    refused = await wallet.ask_code()
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["retry_after"] == 60
    assert refused.headers["Retry-After"] == "60"
    assert await wallet.snapshot() == before
    wallet.clock.advance(timedelta(seconds=59))
    assert (await wallet.ask_code()).json()["retry_after"] == 1
    assert (await wallet.ask_code(purpose="change_phone")).status_code == 202  # own interval
    wallet.clock.advance(timedelta(seconds=1))
    assert (await wallet.ask_code()).status_code == 202


async def test_at_most_five_an_hour_per_phone(wallet: Wallet) -> None:
    for _ in range(5):
        assert (await wallet.ask_code()).status_code == 202
        wallet.clock.advance(timedelta(seconds=61))
    before = await wallet.snapshot()
    refused = await wallet.ask_code(purpose="change_phone")
    assert refused.status_code == 429
    # The hour window is clock-aligned: 01:35:05 now, the next window opens at 02:00.
    assert refused.json()["retry_after"] == 24 * 60 + 55
    assert await wallet.snapshot() == before
    assert (await wallet.ask_code(OTHER)).status_code == 202  # another phone is not affected
    wallet.clock.advance(timedelta(seconds=24 * 60 + 55))
    assert (await wallet.ask_code()).status_code == 202


async def test_at_most_ten_a_day_per_phone(wallet: Wallet) -> None:
    for _ in range(10):
        assert (await wallet.ask_code()).status_code == 202
        wallet.clock.advance(timedelta(hours=1))
    before = await wallet.snapshot()
    refused = await wallet.ask_code()
    assert refused.status_code == 429
    assert refused.json()["retry_after"] == int(timedelta(hours=12, minutes=30).total_seconds())
    assert await wallet.snapshot() == before
    wallet.clock.advance(timedelta(hours=12, minutes=30))
    assert (await wallet.ask_code()).status_code == 202


async def test_per_address_cap_and_refusals_charge_nothing(fast_settings: Settings) -> None:
    async with running(fast_settings.model_copy(update={"sms_per_ip_hour": 3})) as wallet:
        phones = [f"1390000{n:04d}" for n in range(4)]
        async with (
            wallet.client_from("10.0.0.1") as first,
            wallet.client_from("10.0.0.2") as second,
        ):
            for phone in phones[:3]:
                assert (await wallet.ask_code(phone, client=first)).status_code == 202
            before = await wallet.snapshot()
            refused = await wallet.ask_code(phones[3], client=first)
            assert refused.status_code == 429
            assert refused.json()["code"] == "rate_limited"
            assert await wallet.snapshot() == before
            # The refusal did not start phone 4's resend interval nor count toward its hour.
            assert (await wallet.ask_code(phones[3], client=second)).status_code == 202


async def test_five_wrong_entries_kill_the_code(wallet: Wallet) -> None:
    await wallet.ask_code()
    code = await wallet.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    body = {"phone": PHONE, "verification_code": wrong, "login_password": PASSWORD}
    for remaining in (4, 3, 2, 1):
        response = await wallet.client.post("/v1/users", json=body)
        assert response.status_code == 400
        assert response.json()["code"] == "verification_code_invalid"
        assert response.json()["remaining_attempts"] == remaining
    fifth = await wallet.client.post("/v1/users", json=body)
    assert fifth.status_code == 429
    assert fifth.json()["code"] == "too_many_attempts"
    assert fifth.json()["retry_after"] == 60
    right = await wallet.client.post("/v1/users", json={**body, "verification_code": code})
    assert right.status_code == 400
    assert right.json()["code"] == "verification_code_expired"
    assert await wallet.counts("users", "auth_sessions") == {"users": 0, "auth_sessions": 0}


async def test_a_code_expires_after_five_minutes_and_a_new_one_replaces_it(
    wallet: Wallet,
) -> None:
    await wallet.ask_code()
    first = await wallet.last_code()
    wallet.clock.advance(timedelta(seconds=60))
    await wallet.ask_code()
    second = await wallet.last_code()
    body = {"phone": PHONE, "verification_code": first, "login_password": PASSWORD}
    if first != second:  # the older code stopped working when the new one was sent
        response = await wallet.client.post("/v1/users", json=body)
        assert response.json()["code"] == "verification_code_invalid"
    wallet.clock.advance(timedelta(seconds=301))
    late = await wallet.client.post("/v1/users", json={**body, "verification_code": second})
    assert late.status_code == 400
    assert late.json()["code"] == "verification_code_expired"
    assert await wallet.count("users") == 0


async def _answers(wallet: Wallet, phone: str, purpose: str) -> tuple[int, Any, dict[str, str]]:
    """Everything a caller sees, but the request id and the date."""
    response = await wallet.ask_code(phone, purpose)
    headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "date")}
    return response.status_code, response.json(), headers


@pytest.mark.parametrize("purpose", PURPOSES)
async def test_answers_do_not_tell_who_has_an_account(wallet: Wallet, purpose: str) -> None:
    await wallet.register()
    registered = await _answers(wallet, PHONE, purpose)
    unregistered = await _answers(wallet, OTHER, purpose)
    assert registered == unregistered
    assert registered[:2] == (202, {"expires_in": 300, "resend_after": 60})
    assert registered[2]["content-type"] == "application/json"
    # Both were charged alike: the second ask is refused the same way for both.
    assert (await _answers(wallet, PHONE, purpose)) == (await _answers(wallet, OTHER, purpose))
    sent_to_stranger = bool(await wallet.sms(OTHER_E164))
    assert sent_to_stranger == (purpose in ("register", "change_phone"))
    assert len(await wallet.rows(select(codes).where(codes.c.phone == OTHER_E164))) == 1


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def test_answer_time_does_not_tell_who_has_an_account(fast_settings: Settings) -> None:
    generous = fast_settings.model_copy(
        update={
            "sms_per_phone_hour": 1000,
            "sms_per_phone_day": 1000,
            "sms_per_ip_hour": 1000,
            "embedded_worker": False,  # delivery happens after the answer; keep it out
        }
    )
    async with running(generous) as wallet:
        await _register_without_relay(wallet)
        timings: dict[str, list[float]] = {PHONE: [], OTHER: []}
        for _ in range(15):
            for phone in (PHONE, OTHER):
                began = time.perf_counter()
                response = await wallet.ask_code(phone, "login")
                timings[phone].append(time.perf_counter() - began)
                assert response.status_code == 202
            wallet.clock.advance(timedelta(seconds=61))
        registered, stranger = _median_ms(timings[PHONE]), _median_ms(timings[OTHER])
        assert abs(registered - stranger) < max(15.0, 0.5 * max(registered, stranger)), (
            registered,
            stranger,
        )


async def _register_without_relay(wallet: Wallet) -> None:
    """Register with the code read from the outbox event (no relay runs)."""
    await wallet.ask_code()
    [event] = await wallet.rows(select(outbox))
    response = await wallet.client.post(
        "/v1/users",
        json={
            "phone": PHONE,
            "verification_code": event.payload["code"],
            "login_password": PASSWORD,
        },
    )
    assert response.status_code == 201
    wallet.clock.advance(timedelta(seconds=61))
