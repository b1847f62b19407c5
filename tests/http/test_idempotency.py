"""Idempotency-Key on money-moving POSTs, on SQLite and PostgreSQL.

Every test counts executions of the endpoint in the database: a refused or replayed request
must leave no execution and no stray record behind.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http import idempotency_store as store
from ewallet.http.deps import app_services
from ewallet.http.idempotency import (
    idempotency_config,
    key_scope,
    purge_expired_records,
    request_hash,
    require_idempotency,
    require_idempotency_in_unit,
    set_scope_resolver,
)
from ewallet.http.problem import PROBLEM_MEDIA_TYPE
from ewallet.identity.deps import current_principal
from ewallet.kit.clock import FrozenClock
from ewallet.merchants.deps import current_merchant, current_merchant_in_unit
from ewallet.models.tables import sessions
from ewallet.security.context import SecurityContext
from ewallet.staff.deps import current_staff
from tests.fixtures.accounts import START, Harness, fast
from tests.fixtures.serving import LogLines, serving
from tests.http.idempotency_app import (
    PAYMENTS,
    USER_PAYMENTS,
    executions,
    payments_app,
    records,
    request_keys,
)


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


async def caller_from_header(request: Request) -> str:
    return request.headers.get("x-test-principal", "anonymous")


def caller(name: str) -> dict[str, str]:
    return {"X-Test-Principal": name}


async def test_keys_are_scoped_by_caller_method_and_path(
    settings: Settings, engine: AsyncEngine
) -> None:
    app = payments_app(settings)
    set_scope_resolver(app, caller_from_header)
    body = {"amount": "4.00"}
    async with serving(app) as client:
        answers = [
            await client.post(PAYMENTS, json=body, headers=key("k", **caller("a"))),
            await client.post(PAYMENTS, json=body, headers=key("k", **caller("b"))),
            await client.post(PAYMENTS, json=body, headers=key("k")),
            await client.post(
                "/v1/test/other-payments", json=body, headers=key("k", **caller("a"))
            ),
        ]
        replay = await client.post(PAYMENTS, json=body, headers=key("k", **caller("a")))
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


# Authentication first (issue 10, item 9): keys belong to the authenticated principal.


@asynccontextmanager
async def signed_in(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Harness]:
    quick = fast(settings)
    clock = FrozenClock(START)
    app = payments_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Harness(engine, quick, clock, security, client, app_services(app))


async def pay_as(h: Harness, token: str | None, key_value: str, amount: str = "9.00") -> Any:
    headers = key(key_value) | ({"Authorization": f"Bearer {token}"} if token else {})
    return await h.client.post(USER_PAYMENTS, json={"amount": amount}, headers=headers)


async def test_a_signed_out_token_is_refused_not_replayed(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with signed_in(settings, engine) as h:
        user = await h.user(phone="+8613900001001")
        token = h.token(user)
        first = await pay_as(h, token, "k-auth")
        async with engine.begin() as connection:
            await connection.execute(
                update(sessions).where(sessions.c.id == user.session_id).values(revoked_at=START)
            )
        revoked = await pay_as(h, token, "k-auth")
        h.clock.advance(timedelta(minutes=20))  # past the access token's lifetime
        expired = await pay_as(h, token, "k-auth")
    assert first.status_code == 201, first.text
    problem(revoked, 401, "unauthorized")
    problem(expired, 401, "unauthorized")
    assert "idempotent-replayed" not in revoked.headers
    assert await executions(engine) == 1
    assert await states(engine) == [("k-auth", "completed", 201)]


async def test_an_authentication_failure_is_never_stored(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with signed_in(settings, engine) as h:
        user = await h.user(phone="+8613900001002")
        stale = await h.new_session(user.id)
        async with engine.begin() as connection:
            await connection.execute(
                update(sessions).where(sessions.c.id == stale).values(revoked_at=START)
            )
        refused = [
            await pay_as(h, None, "k-first-401"),
            await pay_as(h, h.token(user, session_id=stale), "k-first-401"),
            await pay_as(h, "not-a-token", "k-first-401"),
        ]
        assert await records(engine) == []
        fresh = await pay_as(h, h.token(user), "k-first-401")
    for response in refused:
        problem(response, 401, "unauthorized")
    assert fresh.status_code == 201, fresh.text
    assert "idempotent-replayed" not in fresh.headers
    assert await executions(engine) == 1


async def test_a_401_from_the_endpoint_frees_the_key(
    settings: Settings, engine: AsyncEngine
) -> None:
    app = payments_app(settings)
    app.state.behaviour.outcome = "unauthorized"
    async with serving(app) as client:
        first = await client.post(PAYMENTS, json={"amount": "1.00"}, headers=key("k-401"))
        assert await records(engine) == []
        app.state.behaviour.outcome = "succeed"
        again = await client.post(PAYMENTS, json={"amount": "1.00"}, headers=key("k-401"))
    problem(first, 401, "unauthorized")
    assert again.status_code == 201
    assert await executions(engine) == 2


async def test_two_users_with_one_key_never_meet(settings: Settings, engine: AsyncEngine) -> None:
    async with signed_in(settings, engine) as h:
        alice = await h.user(phone="+8613900001003")
        bob = await h.user(phone="+8613900001004")
        for_alice = await pay_as(h, h.token(alice), "shared-key")
        for_bob = await pay_as(h, h.token(bob), "shared-key")
        bob_again = await pay_as(h, h.token(bob), "shared-key")
        # The same key with another body is another request only for its own user.
        bob_other = await pay_as(h, h.token(bob), "shared-key", amount="10.00")
    assert for_alice.json()["payer"] == alice.id
    assert for_bob.status_code == 201
    assert "idempotent-replayed" not in for_bob.headers
    assert for_bob.json()["payer"] == bob.id
    assert bob_again.headers["idempotent-replayed"] == "true"
    assert bob_again.content == for_bob.content
    problem(bob_other, 409, "idempotency_key_reused")
    assert await executions(engine) == 2


async def test_a_refreshed_token_replays_its_own_request(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with signed_in(settings, engine) as h:
        user = await h.user(phone="+8613900001005")
        first = await pay_as(h, h.token(user), "k-refresh")
        h.clock.advance(timedelta(minutes=20))
        refreshed = h.token(user)  # a new access token for the same session
        other_device = h.token(user, session_id=await h.new_session(user.id))
        again = await pay_as(h, refreshed, "k-refresh")
        elsewhere = await pay_as(h, other_device, "k-refresh")
    assert first.status_code == 201
    for response in (again, elsewhere):
        assert response.headers["idempotent-replayed"] == "true"
        assert response.content == first.content
    assert await executions(engine) == 1


def _flattened(dependant: Dependant) -> list[Any]:
    calls: list[Any] = []
    for sub in dependant.dependencies:
        calls.extend(_flattened(sub))
        calls.append(sub.call)
    return calls


def test_every_idempotent_route_authenticates_first(plain_settings: Settings) -> None:
    authentication = {current_principal, current_merchant, current_merchant_in_unit, current_staff}
    claims = {require_idempotency, require_idempotency_in_unit}
    idempotent = [
        context
        for context in iter_route_contexts(create_app(plain_settings).routes)
        if isinstance(context.original_route, APIRoute)
        and claims & set(_flattened(context.dependant))
    ]
    assert len(idempotent) >= 10
    in_unit = {c.path for c in idempotent if require_idempotency_in_unit in _flattened(c.dependant)}
    assert in_unit == {"/v1/merchant/charges", "/v1/transfers"}
    for context in idempotent:
        calls = _flattened(context.dependant)
        first_auth = min(calls.index(call) for call in authentication if call in calls)
        first_claim = min(calls.index(call) for call in claims if call in calls)
        assert first_auth < first_claim, context.path


# Once money may have left (issue 10, item 1): the key is never released.


async def test_after_an_effect_a_5xx_keeps_the_key_for_the_same_request(
    settings: Settings, engine: AsyncEngine
) -> None:
    app = payments_app(settings)
    app.state.behaviour.outcome = "effect_then_crash"
    async with serving(app) as client:
        crashed = await client.post(PAYMENTS, json={"amount": "5.00"}, headers=key("k-fx"))
        assert await states(engine) == [("k-fx", "in_progress", None)]
        other = await client.post(PAYMENTS, json={"amount": "6.00"}, headers=key("k-fx"))
        app.state.behaviour.outcome = "succeed"
        rerun = await client.post(PAYMENTS, json={"amount": "5.00"}, headers=key("k-fx"))
    problem(crashed, 500, "internal_error")
    problem(other, 409, "idempotency_key_reused")
    # The same request ran again at once (no lease to wait out), under the same request key,
    # which is how a real service finds the operation its first run made.
    assert rerun.status_code == 201
    first_key, second_key = await request_keys(engine)
    assert first_key == second_key
    assert first_key is not None
    assert len(first_key) == 64
    assert await states(engine) == [("k-fx", "completed", 201)]


async def test_a_refusal_before_anything_happened_frees_the_key_again(
    settings: Settings, engine: AsyncEngine
) -> None:
    app = payments_app(settings)
    app.state.behaviour.outcome = "effect_then_refused"
    async with serving(app) as client:
        refused = await client.post(PAYMENTS, json={"amount": "5.00"}, headers=key("k-fx2"))
        assert await records(engine) == []
        app.state.behaviour.outcome = "succeed"
        other = await client.post(PAYMENTS, json={"amount": "6.00"}, headers=key("k-fx2"))
    problem(refused, 503, "upstream_unavailable")
    assert other.status_code == 201


async def test_request_keys_name_caller_key_and_body(
    settings: Settings, engine: AsyncEngine
) -> None:
    app = payments_app(settings)
    set_scope_resolver(app, caller_from_header)
    async with serving(app) as client:
        for who, key_value, amount in [("a", "k", "1.00"), ("b", "k", "1.00"), ("a", "j", "1.00")]:
            response = await client.post(
                PAYMENTS, json={"amount": amount}, headers=key(key_value, **caller(who))
            )
            assert response.status_code == 201
    assert len(set(await request_keys(engine))) == 3
