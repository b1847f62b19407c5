"""The periodic settle job: in development the API process settles unknown outcomes itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import fast, make_app
from tests.fixtures.funding import BANK_GIVE_UP_SECONDS, Funding, warm_sandbox_bank
from tests.fixtures.serving import serving
from tests.funding.test_card_topups import card_user, top_up


@pytest.fixture
async def settling(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Funding]:
    quick = fast(settings).model_copy(
        update={
            "bank_timeout_seconds": BANK_GIVE_UP_SECONDS,
            "settle_interval_seconds": 0.2,
            "embedded_worker": True,
        }
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield Funding(engine, quick, clock, security, client, app_services(app), app)


async def status_of(f: Funding, user: object, topup_id: str) -> str:
    response = await f.client.get(f"/v1/topups/{topup_id}", headers=f.auth(user))  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    status: str = response.json()["topup"]["status"]
    return status


async def test_the_job_credits_a_debit_whose_answer_was_lost(settling: Funding) -> None:
    f = settling
    user, card_id = await card_user(f)
    response = await top_up(f, user, card_id, "12.56")  # committed, connection dropped
    assert response.status_code == 202, response.text
    topup_id = response.json()["topup"]["id"]
    async with asyncio.timeout(10):
        while await status_of(f, user, topup_id) != "succeeded":
            await asyncio.sleep(0.1)
    assert await f.balance(user) == Decimal("12.56")
    assert await f.kinds(user) == ["topup_succeeded"]


async def test_the_job_fails_an_unseen_debit_only_after_the_grace(settling: Funding) -> None:
    f = settling
    user, card_id = await card_user(f)
    response = await top_up(f, user, card_id, "12.51")  # the bank never commits it
    topup_id = response.json()["topup"]["id"]
    await asyncio.sleep(0.6)  # a few runs of the job
    assert await status_of(f, user, topup_id) == "pending"
    f.clock.advance(timedelta(seconds=f.settings.bank_unknown_grace_seconds + 1))
    async with asyncio.timeout(10):
        while await status_of(f, user, topup_id) != "failed":
            await asyncio.sleep(0.1)
    assert await f.kinds(user) == ["topup_failed"]
