"""A test-only money-moving endpoint that counts its executions in the database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.deps import ClockDep, EngineDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.kit.clock import Clock
from ewallet.kit.errors import DomainError, UnauthorizedError, UpstreamUnavailableError
from ewallet.kit.ids import new_id
from ewallet.models import IdempotencyRecord, OutboxEvent

PAYMENTS = "/v1/test/payments"
USER_PAYMENTS = "/v1/test/user-payments"
EXECUTED_TOPIC = "test.payment.executed"


class DeclinedError(DomainError):
    code = "bank_declined"
    status = 402


class PaymentIn(BaseModel):
    amount: str
    memo: str | None = None
    delay_ms: int = 0


@dataclass
class Behaviour:
    """What the next executions do; tests flip it between requests."""

    # succeed | decline | crash | upstream | unauthorized, or after the service said an
    # effect outside may have happened: effect_then_crash | effect_then_refused (the other
    # side refused before anything happened: the service takes the promise back).
    outcome: str = "succeed"


router = APIRouter()


@router.post(PAYMENTS, status_code=201, dependencies=[Idempotent])
async def pay(
    *,
    body: PaymentIn,
    request: Request,
    response: Response,
    engine: EngineDep,
    clock: ClockDep,
    request_key: RequestKeyDep,
) -> dict[str, str]:
    # Every execution leaves a committed row, whatever its outcome, so tests can count them.
    await record_execution(engine, clock, body, request_key.digest)
    await asyncio.sleep(body.delay_ms / 1000)
    outcome = request.app.state.behaviour.outcome
    if outcome == "decline":
        raise DeclinedError("card declined", reason="insufficient funds at bank")
    if outcome == "crash":
        raise RuntimeError("bug")
    if outcome == "upstream":
        raise UpstreamUnavailableError("bank timed out before accepting")
    if outcome == "unauthorized":
        raise UnauthorizedError("step up first")
    if outcome.startswith("effect_then_"):
        request_key.effect_possible()
        if outcome == "effect_then_refused":
            request_key.nothing_happened()
            raise UpstreamUnavailableError("the bank refused before anything happened")
        raise RuntimeError("the bank's answer could not be recorded")
    payment_id = new_id("pay")
    response.headers["Location"] = f"{PAYMENTS}/{payment_id}"
    return {"id": payment_id, "amount": body.amount}


@router.post("/v1/test/other-payments", status_code=201, dependencies=[Idempotent])
async def pay_elsewhere(body: PaymentIn, engine: EngineDep, clock: ClockDep) -> dict[str, str]:
    await record_execution(engine, clock, body)
    return {"id": new_id("pay"), "amount": body.amount}


@router.post(USER_PAYMENTS, status_code=201, dependencies=[Authenticated, Idempotent])
async def pay_as_user(
    body: PaymentIn, user: CurrentUser, engine: EngineDep, clock: ClockDep
) -> dict[str, str]:
    await record_execution(engine, clock, body)
    return {"id": new_id("pay"), "amount": body.amount, "payer": user.user_id}


async def record_execution(
    engine: AsyncEngine, clock: Clock, body: PaymentIn, request_key: str | None = None
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(OutboxEvent).values(
                topic=EXECUTED_TOPIC,
                payload={"amount": body.amount, "request_key": request_key},
                status="pending",
                attempts=0,
                available_at=clock.now(),
                created_at=clock.now(),
            )
        )


def payments_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    app = create_app(settings, clock=clock)
    app.state.behaviour = Behaviour()
    app.include_router(router)
    return app


async def request_keys(engine: AsyncEngine) -> list[str | None]:
    """The request key each execution saw, in order."""
    async with engine.connect() as connection:
        statement = (
            select(OutboxEvent.payload)
            .where(OutboxEvent.topic == EXECUTED_TOPIC)
            .order_by(OutboxEvent.id)
        )
        return [row[0]["request_key"] for row in await connection.execute(statement)]


async def executions(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        statement = select(func.count()).where(OutboxEvent.topic == EXECUTED_TOPIC)
        return int((await connection.execute(statement)).scalar_one())


async def records(engine: AsyncEngine) -> list[tuple[str, str, int | None, datetime]]:
    """(key, state, response_status, expires_at) of every idempotency record."""
    async with engine.connect() as connection:
        statement = select(
            IdempotencyRecord.key,
            IdempotencyRecord.state,
            IdempotencyRecord.response_status,
            IdempotencyRecord.expires_at,
        ).order_by(IdempotencyRecord.id)
        rows = (await connection.execute(statement)).all()
    return [(row[0], row[1], row[2], row[3]) for row in rows]
