"""Delayed transfers' test helpers: two funded people, a delayed transfer, what it left."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from ewallet.ledger import Ledger, chart
from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import spend_records, transfers
from ewallet.transfers.arrival.service import ARRIVAL_TOPIC
from tests.fixtures.accounts import PIN, Harness, TestUser
from tests.fixtures.limits import fund, set_tier

ALICE, BOB, CAROL = "+8613800000001", "+8613900000002", "+8613700000003"


async def people(harness: Harness, funds: str = "1000.00") -> tuple[TestUser, TestUser]:
    alice = await harness.user(phone=ALICE, pin=PIN)
    bob = await harness.user(phone=BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    await set_tier(harness, bob, 2, name="张*伟")
    await fund(harness, alice, funds)
    return alice, bob


async def send(
    harness: Harness,
    payer: TestUser,
    amount: str,
    *,
    arrival: str | None = "2h",
    to_phone: str = BOB,
    key: str | None = None,
    acknowledge: bool = True,
) -> httpx.Response:
    body: dict[str, Any] = {
        "to_phone": to_phone,
        "amount": amount,
        "payment_password": PIN,
        "acknowledge_new_payee": acknowledge,
    }
    if arrival is not None:
        body["arrival"] = arrival
    return await harness.client.post(
        "/v1/transfers",
        json=body,
        headers=harness.auth(payer, **{"Idempotency-Key": key or f"d-{amount}-{arrival}"}),
    )


async def scheduled(harness: Harness, payer: TestUser, amount: str = "100.00") -> dict[str, Any]:
    response = await send(harness, payer, amount)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()["transfer"]
    assert found["status"] == "scheduled"
    return found


async def cancel(
    harness: Harness, user: TestUser, transfer_id: str, *, key: str = "c-1"
) -> httpx.Response:
    return await harness.client.post(
        f"/v1/transfers/{transfer_id}/cancel",
        headers=harness.auth(user, **{"Idempotency-Key": key}),
    )


async def wallet(harness: Harness, user: TestUser) -> tuple[int, int, int]:
    """The wallet's posted balance, what holds keep back from it, and what they bring in."""
    account = await Ledger(harness.engine, clock=harness.clock).account_by_code(
        chart.wallet(user.id).code
    )
    if account is None:
        return 0, 0, 0
    return account.posted, account.pending_debits, account.pending_credits


async def stored(harness: Harness, transfer_id: str) -> Any:
    async with harness.engine.connect() as conn:
        return (await conn.execute(select(transfers).where(transfers.c.id == transfer_id))).one()


async def arrival_events(harness: Harness) -> int:
    async with harness.engine.connect() as conn:
        statement = select(func.count()).select_from(OutboxEvent)
        return int(await conn.scalar(statement.where(OutboxEvent.topic == ARRIVAL_TOPIC)) or 0)


async def released(harness: Harness, transfer_id: str) -> bool:
    async with harness.engine.connect() as conn:
        statement = select(spend_records.c.released_at).where(
            spend_records.c.reference == f"transfer:{transfer_id}"
        )
        return (await conn.execute(statement)).scalar_one() is not None


async def daily_remaining(harness: Harness, user: TestUser) -> str:
    response = await harness.client.get("/v1/me/wallet", headers=harness.auth(user))
    assert response.status_code == 200, response.text
    remaining: str = response.json()["limits"]["daily_remaining"]["amount"]
    return remaining
