"""One customer cannot open unlimited tickets: a cap on open ones and on new ones per day.

Beyond either cap ``POST /v1/support/tickets`` answers ``429 rate_limited`` with
``Retry-After`` and creates nothing (no ticket, no message, no mail); a parallel burst gets
exactly the allowance (SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from ewallet.config import Settings
from tests.fixtures.accounts import assert_problem
from tests.support.conftest import Harness, count, messages_table, outbox_table, tickets_table

NEW = {"subject": "余额不对", "body": "昨天的转账没有到账。", "category": "transfer"}
OPEN_MAX = 2
PER_DAY = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"support_ticket_open_max": OPEN_MAX, "support_tickets_per_day": PER_DAY}
    )


async def snapshot(harness: Harness) -> tuple[int, int, int]:
    engine = harness.engine
    return (
        await count(engine, tickets_table),
        await count(engine, messages_table),
        await count(engine, outbox_table),
    )


async def open_ticket(harness: Harness, headers: dict[str, str]) -> Any:
    return await harness.client.post("/v1/support/tickets", json=NEW, headers=headers)


async def resolve_all(harness: Harness) -> None:
    async with harness.engine.begin() as conn:
        await conn.execute(update(tickets_table).values(status="resolved"))


async def test_open_and_daily_caps(harness: Harness) -> None:
    user = await harness.user()
    other = await harness.user(phone="+8613900001111")
    for _ in range(OPEN_MAX):
        assert (await open_ticket(harness, harness.auth(user))).status_code == 201
        harness.clock.advance(timedelta(minutes=10))
    before = await snapshot(harness)
    refused = await open_ticket(harness, harness.auth(user, **{"Accept-Language": "en"}))
    problem = assert_problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "3600"
    assert problem["retry_after"] == 3600
    assert await snapshot(harness) == before
    # Someone else is not affected.
    assert (await open_ticket(harness, harness.auth(other))).status_code == 201

    # Resolved tickets no longer count as open, but still count for the day.
    await resolve_all(harness)
    assert (await open_ticket(harness, harness.auth(user))).status_code == 201  # 3rd today
    harness.clock.advance(timedelta(minutes=10))
    before = await snapshot(harness)
    refused = await open_ticket(harness, harness.auth(user))
    assert_problem(refused, 429, "rate_limited")
    # The first of the day was 30 minutes ago: it leaves the rolling day in 23.5 hours.
    assert int(refused.headers["retry-after"]) == 23 * 3600 + 30 * 60
    assert await snapshot(harness) == before

    harness.clock.advance(timedelta(hours=23, minutes=30))
    assert (await open_ticket(harness, harness.auth(user))).status_code == 201


async def test_a_parallel_burst_gets_exactly_the_allowance(harness: Harness) -> None:
    user = await harness.user()
    headers = harness.auth(user)
    answers = await asyncio.gather(*(open_ticket(harness, headers) for _ in range(6)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * OPEN_MAX + [429] * (6 - OPEN_MAX)
    assert await count(harness.engine, tickets_table) == OPEN_MAX
