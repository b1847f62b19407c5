"""Money-request tests: the transfers harness (tests/fixtures/transfers.py) plus helpers to
ask, pay and read requests and receive codes over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select, update

from ewallet.models.tables import money_requests, users
from tests.fixtures.accounts import PIN, Harness, TestUser
from tests.fixtures.transfers import clock, fund, harness, set_tier

__all__ = ["clock", "harness"]

ALICE, BOB, CAROL, DAVE = "+8613800000001", "+8613900000002", "+8613700000003", "+8613600000004"


async def people(harness: Harness, funds: str = "1000.00") -> tuple[TestUser, TestUser]:
    """Alice (the requester, a named tier-II wallet) and Bob (the payer, funded)."""
    alice = await harness.user(phone=ALICE, pin=PIN)
    bob = await harness.user(phone=BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    await set_tier(harness, bob, 2, name="张*伟")
    await fund(harness, bob, funds)
    return alice, bob


async def ask(
    harness: Harness, requester: TestUser, phone: str, amount: Any, note: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"phone": phone, "amount": amount}
    if note is not None:
        body["note"] = note
    return await harness.client.post(
        "/v1/money-requests",
        json=body,
        headers=harness.auth(requester, **{"Idempotency-Key": f"ask-{uuid.uuid4()}"}),
    )


async def asked(harness: Harness, requester: TestUser, phone: str, amount: str) -> str:
    response = await ask(harness, requester, phone, amount)
    assert response.status_code == 201, response.text
    return str(response.json()["money_request"]["id"])


async def accept(
    harness: Harness, payer: TestUser, request_id: str, *, pin: str = PIN, key: str | None = None
) -> httpx.Response:
    return await harness.client.post(
        f"/v1/money-requests/{request_id}/accept",
        json={"payment_password": pin},
        headers=harness.auth(payer, **{"Idempotency-Key": key or f"acc-{request_id}-{pin}"}),
    )


async def read(harness: Harness, user: TestUser, request_id: str) -> httpx.Response:
    return await harness.client.get(f"/v1/money-requests/{request_id}", headers=harness.auth(user))


async def stored_status(harness: Harness, request_id: str) -> str:
    async with harness.engine.connect() as conn:
        return str(
            await conn.scalar(
                select(money_requests.c.status).where(money_requests.c.id == request_id)
            )
        )


async def freeze(harness: Harness, user: TestUser) -> None:
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user.id).values(status="frozen", frozen_by="self")
        )
