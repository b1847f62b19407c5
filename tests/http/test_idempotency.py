"""Idempotency-Key on money-moving POSTs, on SQLite and PostgreSQL.

Every test counts executions of the endpoint in the database: a refused or replayed request
must leave no execution and no stray record behind.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http import idempotency_store as store
from ewallet.http.idempotency import (
    idempotency_config,
    key_scope,
    purge_expired_records,
    request_hash,
    set_scope_resolver,
)
from ewallet.http.problem import PROBLEM_MEDIA_TYPE
from ewallet.kit.clock import FrozenClock
from tests.http.conftest import LogLines, serving
from tests.http.idempotency_app import PAYMENTS, executions, payments_app, records


def key(value: str, **more: str) -> dict[str, str]:
    return {"Idempotency-Key": value, **more}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def states(engine: AsyncEngine) -> list[tuple[str, str, int | None]]:
    return [(k, state, status) for k, state, status, _ in await records(engine)]


async def test_replay_returns_the_first_response_and_runs_once(
    settings: Settings, engine: AsyncEngine
) -> None:
    clock = FrozenClock()
    async with serving(payments_app(settings, clock)) as client:
        first = await client.post(
            PAYMENTS, json={"amount": "12.30", "memo": "rent"}, headers=key("k1")
        )
        # The same JSON with other key order and spacing is the same request.
        again = await client.post(
            PAYMENTS,
            content=b'{ "memo": "rent",  "amount": "12.30" }',
            headers=key("k1", **{"content-type": "application/json"}),
        )
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == "application/json"
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert await executions(engine) == 1
    [(stored_key, state, status, expires_at)] = await records(engine)
    assert (stored_key, state, status) == ("k1", "completed", 201)
    assert expires_at == clock.now() + timedelta(hours=settings.idempotency_ttl_hours)


async def test_same_key_with_another_body_is_refused(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(payments_app(settings)) as client:
        first = await client.post(PAYMENTS, json={"amount": "12.30"}, headers=key("k2"))
        other = await client.post(PAYMENTS, json={"amount": "99.99"}, headers=key("k2"))
        again = await client.post(PAYMENTS, json={"amount": "12.30"}, headers=key("k2"))
    problem(other, 409, "idempotency_key_reused")
    assert "idempotent-replayed" not in other.headers
    assert again.content == first.content
    assert await executions(engine) == 1
    assert await states(engine) == [("k2", "completed", 201)]


async def test_missing_key_is_refused_before_anything_runs(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(payments_app(settings)) as client:
        response = await client.post(PAYMENTS, json={"amount": "1.00"})
    problem(response, 400, "idempotency_key_required")
    assert await executions(engine) == 0
    assert await records(engine) == []


async def test_key_length_is_bounded(settings: Settings, engine: AsyncEngine) -> None:
    async with serving(payments_app(settings)) as client:
        too_long = await client.post(PAYMENTS, json={"amount": "1.00"}, headers=key("x" * 256))
        assert await executions(engine) == 0
        assert await records(engine) == []
        longest = await client.post(PAYMENTS, json={"amount": "1.00"}, headers=key("x" * 255))
    body = problem(too_long, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert longest.status_code == 201
    assert await executions(engine) == 1


async def test_concurrent_requests_with_one_key_run_once(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(payments_app(settings)) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    PAYMENTS, json={"amount": "5.00", "delay_ms": 300}, headers=key("k-race")
                )
                for _ in range(20)
            )
        )
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.content for r in responses}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in responses) == 1
    assert await executions(engine) == 1
    assert await states(engine) == [("k-race", "completed", 201)]


async def test_a_definite_4xx_outcome_is_replayed(settings: Settings, engine: AsyncEngine) -> None:
    app = payments_app(settings)
    app.state.behaviour.outcome = "decline"
    async with serving(app) as client:
        first = await client.post(PAYMENTS, json={"amount": "8.00"}, headers=key("k-4xx"))
        app.state.behaviour.outcome = "succeed"
        again = await client.post(PAYMENTS, json={"amount": "8.00"}, headers=key("k-4xx"))
    body = problem(first, 402, "bank_declined")
    assert body["reason"] == "insufficient funds at bank"
    assert again.status_code == 402
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert again.content == first.content
    assert await executions(engine) == 1
    assert await states(engine) == [("k-4xx", "completed", 402)]


async def test_an_unexpected_exception_frees_the_key(
    settings: Settings, engine: AsyncEngine, log_lines: LogLines
) -> None:
    app = payments_app(settings)
    app.state.behaviour.outcome = "crash"
    async with serving(app) as client:
        crashed = await client.post(PAYMENTS, json={"amount": "3.00"}, headers=key("k-500"))
        assert await records(engine) == []
        app.state.behaviour.outcome = "succeed"
        retried = await client.post(PAYMENTS, json={"amount": "3.00"}, headers=key("k-500"))
    problem(crashed, 500, "internal_error")
    [logged] = [line for line in log_lines() if line["event"] == "http.unhandled_exception"]
    assert logged["request_id"] == crashed.headers["x-request-id"]
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert await executions(engine) == 2
    assert await states(engine) == [("k-500", "completed", 201)]


async def test_a_5xx_domain_error_frees_the_key(settings: Settings, engine: AsyncEngine) -> None:
    app = payments_app(settings)
    app.state.behaviour.outcome = "upstream"
    async with serving(app) as client:
        failed = await client.post(PAYMENTS, json={"amount": "3.00"}, headers=key("k-503"))
        assert await records(engine) == []
        app.state.behaviour.outcome = "succeed"
        retried = await client.post(PAYMENTS, json={"amount": "3.00"}, headers=key("k-503"))
    problem(failed, 503, "upstream_unavailable")
    assert retried.status_code == 201
    assert await executions(engine) == 2


async def test_a_malformed_body_frees_the_key(settings: Settings, engine: AsyncEngine) -> None:
    async with serving(payments_app(settings)) as client:
        malformed = await client.post(PAYMENTS, json={"memo": "no amount"}, headers=key("k-422"))
        assert await records(engine) == []
        fixed = await client.post(PAYMENTS, json={"amount": "2.00"}, headers=key("k-422"))
    problem(malformed, 422, "validation_error")
    assert fixed.status_code == 201
    assert await executions(engine) == 1


async def test_a_long_run_answers_request_in_progress(
    settings: Settings, engine: AsyncEngine
) -> None:
    app = payments_app(settings)
    idempotency_config(app).wait_seconds = 0.2
    body = {"amount": "1.00", "delay_ms": 600}
    async with serving(app) as client:
        slow = asyncio.create_task(client.post(PAYMENTS, json=body, headers=key("k-slow")))
        while not await records(engine):
            await asyncio.sleep(0.02)
        busy = await client.post(PAYMENTS, json=body, headers=key("k-slow"))
        first = await slow
        again = await client.post(PAYMENTS, json=body, headers=key("k-slow"))
    assert problem(busy, 409, "request_in_progress")["retry_after"] == 1
    assert busy.headers["retry-after"] == "1"
    assert first.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert await executions(engine) == 1


def _crashed_claim(body: dict[str, str], key_value: str) -> store.KeyRequest:
    return store.KeyRequest(
        scope=key_scope("anonymous", "POST", PAYMENTS),
        key=key_value,
        method="POST",
        path=PAYMENTS,
        request_hash=request_hash("POST", PAYMENTS, json.dumps(body).encode()),
    )


async def test_a_crashed_runs_lease_is_taken_over_once_it_expires(
    settings: Settings, engine: AsyncEngine
) -> None:
    clock = FrozenClock()
    app = payments_app(settings, clock)
    idempotency_config(app).wait_seconds = 0.1
    body = {"amount": "7.00"}
    claimed = await store.claim(
        engine,
        _crashed_claim(body, "k-crash"),
        now=clock.now(),
        lock_for=timedelta(seconds=60),
        keep_for=timedelta(hours=24),
    )
    assert isinstance(claimed, store.Claim)
    async with serving(app) as client:
        busy = await client.post(PAYMENTS, json=body, headers=key("k-crash"))
        assert await executions(engine) == 0
        clock.advance(timedelta(seconds=61))
        taken = await client.post(PAYMENTS, json=body, headers=key("k-crash"))
    problem(busy, 409, "request_in_progress")
    assert taken.status_code == 201
    assert await executions(engine) == 1
    assert await states(engine) == [("k-crash", "completed", 201)]


async def test_an_expired_lease_is_not_taken_by_another_body(
    settings: Settings, engine: AsyncEngine
) -> None:
    clock = FrozenClock()
    await store.claim(
        engine,
        _crashed_claim({"amount": "7.00"}, "k-crash-2"),
        now=clock.now() - timedelta(minutes=5),
        lock_for=timedelta(seconds=60),
        keep_for=timedelta(hours=24),
    )
    async with serving(payments_app(settings, clock)) as client:
        other = await client.post(PAYMENTS, json={"amount": "70.00"}, headers=key("k-crash-2"))
    problem(other, 409, "idempotency_key_reused")
    assert await executions(engine) == 0
    assert await states(engine) == [("k-crash-2", "in_progress", None)]


async def test_records_expire_and_are_purged(settings: Settings, engine: AsyncEngine) -> None:
    clock = FrozenClock()
    ttl = timedelta(hours=settings.idempotency_ttl_hours)
    async with serving(payments_app(settings, clock)) as client:
        await client.post(PAYMENTS, json={"amount": "1.00"}, headers=key("k-old"))
        await client.post(PAYMENTS, json={"amount": "1.00"}, headers=key("k-kept"))
        clock.advance(ttl)
        # Expired, not yet purged: the key is free again, even for another body.
        reused = await client.post(PAYMENTS, json={"amount": "2.00"}, headers=key("k-old"))
        assert reused.status_code == 201
        assert "idempotent-replayed" not in reused.headers
        assert await purge_expired_records(engine, clock) == 1
        assert await states(engine) == [("k-old", "completed", 201)]
        clock.advance(ttl)
        assert await purge_expired_records(engine, clock) == 1
    assert await records(engine) == []
    assert await executions(engine) == 3


async def test_keys_are_scoped_by_caller_method_and_path(
    settings: Settings, engine: AsyncEngine
) -> None:
    body = {"amount": "4.00"}
    async with serving(payments_app(settings)) as client:
        answers = [
            await client.post(PAYMENTS, json=body, headers=key("k", Authorization="Bearer a")),
            await client.post(PAYMENTS, json=body, headers=key("k", Authorization="Bearer b")),
            await client.post(PAYMENTS, json=body, headers=key("k")),
            await client.post(
                "/v1/test/other-payments", json=body, headers=key("k", Authorization="Bearer a")
            ),
        ]
        replay = await client.post(PAYMENTS, json=body, headers=key("k", Authorization="Bearer a"))
    assert [a.status_code for a in answers] == [201] * 4
    assert not any("idempotent-replayed" in a.headers for a in answers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == answers[0].content
    assert await executions(engine) == 4
    assert len(await records(engine)) == 4


async def test_a_pluggable_scope_resolver_names_the_caller(
    settings: Settings, engine: AsyncEngine
) -> None:
    async def principal(request: Request) -> str:
        return request.headers.get("x-test-principal", "anonymous")

    app = payments_app(settings)
    set_scope_resolver(app, principal)
    body = {"amount": "6.00"}
    async with serving(app) as client:
        first = await client.post(
            PAYMENTS,
            json=body,
            headers=key("k", Authorization="Bearer t1", **{"X-Test-Principal": "usr_1"}),
        )
        # A refreshed token is still the same user: the same key replays.
        again = await client.post(
            PAYMENTS,
            json=body,
            headers=key("k", Authorization="Bearer t2", **{"X-Test-Principal": "usr_1"}),
        )
    assert first.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert await executions(engine) == 1


async def test_openapi_documents_the_header(plain_settings: Settings) -> None:
    async with serving(payments_app(plain_settings)) as client:
        document = (await client.get("/openapi.json")).json()
    parameters = document["paths"][PAYMENTS]["post"]["parameters"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= parameters[0].items()
