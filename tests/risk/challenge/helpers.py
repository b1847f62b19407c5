"""Helpers of the challenge tests: a challenge rule installed, the step-up code read from
the outbox as the SMS gateway would get it, the step-up proved over HTTP, and what "nothing
moved" compares (money and movement rows, not the challenge's own SMS and audit event)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, func, insert, select

from ewallet.kit.ids import new_id
from ewallet.models.outbox import OutboxEvent
from ewallet.models.risk import RuleAction
from ewallet.models.tables import (
    ledger_holds,
    ledger_transactions,
    risk_decisions,
    sessions,
    spend_records,
    transfers,
)
from tests.fixtures.accounts import PIN, Harness, TestUser
from tests.fixtures.transfers import balance
from tests.risk.engine.helpers import add_device, install, rule

outbox = cast(Table, OutboxEvent.__table__)

__all__ = ["PIN", "add_device", "ask_over", "install", "rule"]


async def ask_over(harness: Harness, amount: str, *events: str) -> None:
    """The active rules: one live rule challenging ``events`` of ``amount`` or more."""
    await install(
        harness,
        rule("ask", f"amount >= {amount}", RuleAction.CHALLENGE, events=events or ("transfer",)),
    )


async def step_up_code(harness: Harness, phone: str) -> str:
    """The newest ``step_up`` code texted to ``phone`` (its ``sms.send`` outbox event)."""
    async with harness.engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.payload).order_by(outbox.c.id))).all()
    codes = [
        row.payload["code"]
        for row in rows
        if row.payload.get("to") == phone and row.payload.get("purpose") == "step_up"
    ]
    assert codes, f"no step-up code was texted to {phone}"
    return str(codes[-1])


async def prove(harness: Harness, user: TestUser, challenge_id: str, code: str) -> httpx.Response:
    return await harness.client.post(
        "/v1/me/step-up",
        json={"challenge_id": challenge_id, "verification_code": code},
        headers=harness.auth(user),
    )


async def transfer(
    harness: Harness,
    user: TestUser,
    to_phone: str,
    amount: str,
    *,
    key: str,
    challenge_id: str | None = None,
    token: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {
        "to_phone": to_phone,
        "amount": amount,
        "payment_password": PIN,
        "acknowledge_new_payee": True,
    }
    if challenge_id is not None:
        body["challenge_id"] = challenge_id
    headers = harness.auth(user, **{"Idempotency-Key": key})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await harness.client.post("/v1/transfers", json=body, headers=headers)


async def moved(harness: Harness, *people: TestUser) -> dict[str, Any]:
    """The money and the movements' rows: equal before and after = nothing moved."""
    async with harness.engine.connect() as conn:
        counts = {
            table.name: await conn.scalar(select(func.count()).select_from(table))
            for table in (transfers, spend_records, ledger_transactions, ledger_holds)
        }
    return {**counts, "balances": [await balance(harness, person) for person in people]}


async def decisions(harness: Harness) -> list[Any]:
    async with harness.engine.connect() as conn:
        rows = await conn.execute(
            select(risk_decisions).order_by(risk_decisions.c.created_at, risk_decisions.c.id)
        )
        return list(rows)


async def session_on_device(harness: Harness, user: TestUser, *, first_seen: datetime) -> str:
    """A session of ``user`` opened on a device first seen at ``first_seen``: a token for it."""
    device_id = await add_device(harness, user.id, first_seen=first_seen)
    now = harness.clock.now()
    session_id = new_id("ses")
    async with harness.engine.begin() as conn:
        await conn.execute(
            insert(sessions).values(
                id=session_id,
                user_id=user.id,
                device_id=device_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(days=30),
            )
        )
    return harness.token(user, session_id=session_id)
