"""A copy of my data: requested, built by the outbox handler, downloaded by its owner only."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta

from sqlalchemy import select

from ewallet.identity.data_copy.jobs import register
from ewallet.identity.data_copy.service import BUILD_TOPIC
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem, outbox
from tests.fixtures.limits import fund

COPIES = "/v1/me/data-copies"


async def build_queued(harness: Harness) -> None:
    """Deliver every queued ``data_copy.build`` event to the handler, as the relay does."""
    registry = HandlerRegistry()
    register(registry, harness.services)
    async with harness.engine.connect() as conn:
        events = list(
            await conn.execute(
                select(outbox.c.id, outbox.c.payload, outbox.c.created_at).where(
                    outbox.c.topic == BUILD_TOPIC
                )
            )
        )
    assert events
    for event in events:
        for handler in registry.handlers_for(BUILD_TOPIC):
            await handler(DeliveredEvent(event.id, BUILD_TOPIC, event.payload, 1, event.created_at))


async def request_copy(harness: Harness, user: TestUser) -> str:
    response = await harness.client.post(COPIES, headers=harness.auth(user))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "building"
    return str(response.json()["id"])


async def test_a_copy_is_built_and_downloaded(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    await fund(harness, user, "12.30")
    copy_id = await request_copy(harness, user)
    # One at a time.
    refused = await harness.client.post(COPIES, headers=harness.auth(user))
    assert_problem(refused, 409, "data_copy_in_progress")
    await build_queued(harness)
    await build_queued(harness)  # a second delivery changes nothing
    listed = (await harness.client.get(COPIES, headers=harness.auth(user))).json()["items"]
    assert [(item["id"], item["status"]) for item in listed] == [(copy_id, "ready")]
    assert await harness.kinds(user) == ["data_copy_ready"]
    url = f"{COPIES}/{copy_id}/download"
    as_json = await harness.client.get(url, headers=harness.auth(user))
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    document = json.loads(as_json.content)
    assert document["profile"]["id"] == user.id
    assert document["profile"]["phone"] == user.phone
    assert [(t["type"], t["amount"]) for t in document["transactions"]] == [("topup", "12.30")]
    assert document["balances"] == [{"currency": "CNY", "total": "12.30", "held": "0.00"}]
    as_pdf = await harness.client.get(url, params={"format": "pdf"}, headers=harness.auth(user))
    assert as_pdf.status_code == 200
    assert as_pdf.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=as_pdf.content, capture_output=True, check=True
        ).stdout.decode()
        assert "12.30" in text
        assert "交易记录" in text


async def test_another_users_copy_is_not_found(harness: Harness) -> None:
    owner = await harness.user(pin=PIN)
    other = await harness.user(phone="+8613912345678", pin=PIN)
    copy_id = await request_copy(harness, owner)
    await build_queued(harness)
    response = await harness.client.get(f"{COPIES}/{copy_id}/download", headers=harness.auth(other))
    assert_problem(response, 404, "not_found")
    listed = (await harness.client.get(COPIES, headers=harness.auth(other))).json()
    assert listed["items"] == []


async def test_an_expired_copy_is_gone(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    copy_id = await request_copy(harness, user)
    await build_queued(harness)
    harness.clock.advance(timedelta(days=harness.settings.data_copy_ttl_days))
    response = await harness.client.get(f"{COPIES}/{copy_id}/download", headers=harness.auth(user))
    assert_problem(response, 410, "data_copy_expired")


async def test_copies_per_day_are_capped(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    for _ in range(harness.settings.data_copies_per_day):
        await request_copy(harness, user)
        await build_queued(harness)
    before = await harness.snapshot(user)
    refused = await harness.client.post(COPIES, headers=harness.auth(user))
    assert_problem(refused, 429, "rate_limited")
    assert await harness.snapshot(user) == before
    harness.clock.advance(timedelta(days=1))
    await request_copy(harness, user)
