"""Payment-code guessing is budgeted per merchant key and per terminal.

A merchant key once tried 100 random codes at ~84/s with no counter, lock or audit. Now
unknown codes spend a budget (``EWALLET_PAYMENT_CODE_FAILURES_PER_KEY`` / ``_PER_TERMINAL``
in ``EWALLET_PAYMENT_CODE_FAILURE_WINDOW_SECONDS``); the failure that spends it starts a
cool-down in which every charge with a code answers ``429 too_many_attempts`` (a valid one
too), audited and alerted once. A parallel burst gets exactly the budget.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.merchants.views import NewMerchant
from ewallet.models.operations import AuditEvent
from ewallet.models.risk import RiskAlert
from ewallet.payments.payment_codes.codec import PREFIX
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import assert_problem, make_app
from tests.fixtures.payment_codes import CHARGES, Shop, everything, show_code
from tests.fixtures.serving import serving
from tests.fixtures.shop import shop_settings

audit_events = cast(Table, AuditEvent.__table__)
risk_alerts = cast(Table, RiskAlert.__table__)
COOLDOWN = 900


@pytest.fixture
async def guarded(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Shop]:
    """The shop with the shipped key budget (10) and a smaller terminal budget (4)."""
    quick = shop_settings(
        settings,
        payment_code_failures_per_key=10,
        payment_code_failures_per_terminal=4,
        payment_code_failure_window_seconds=300,
        payment_code_cooldown_seconds=COOLDOWN,
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Shop(engine, quick, clock, security, client, app_services(app), app)


def unknown_code() -> str:
    """Well-formed, ours by its prefix, and (almost surely) nobody's."""
    return PREFIX + "".join(secrets.choice("0123456789") for _ in range(16))


async def charge_with(
    shop: Shop, merchant: NewMerchant, code: str, *, terminal: str | None = None
) -> httpx.Response:
    number = secrets.token_hex(8)
    body: dict[str, Any] = {"payment_code": code, "amount": "1.00", "out_trade_no": number}
    if terminal is not None:
        body["terminal_id"] = terminal
    headers = shop.key(merchant, **{"Idempotency-Key": f"guess-{number}"})
    return await shop.client.post(CHARGES, json=body, headers=headers)


async def locks_recorded(shop: Shop) -> tuple[list[Any], list[Any]]:
    async with shop.engine.connect() as conn:
        audits = list(
            await conn.execute(
                select(audit_events).where(audit_events.c.action == "payment_code.guessing_locked")
            )
        )
        alerts = list(await conn.execute(select(risk_alerts)))
    return audits, alerts


async def test_the_budget_then_a_cool_down_that_refuses_valid_codes_too(guarded: Shop) -> None:
    shop = guarded
    merchant = await shop.merchant()
    payer = await shop.customer("+8613900000801", "100.00")
    for _ in range(9):
        assert_problem(
            await charge_with(shop, merchant, unknown_code()), 422, "payment_code_invalid"
        )
    # A valid code within the budget still works.
    assert (await charge_with(shop, merchant, await show_code(shop, payer))).status_code == 201
    # The tenth unknown code is answered as such, and spends the budget.
    assert_problem(await charge_with(shop, merchant, unknown_code()), 422, "payment_code_invalid")
    audits, alerts = await locks_recorded(shop)
    assert [(a.actor_type, a.actor_id, a.subject_id) for a in audits] == [
        ("merchant", merchant.merchant.id, merchant.merchant.id)
    ]
    assert audits[0].details["failures"] == 10
    assert [(a.kind, a.subject_id) for a in alerts] == [
        ("payment_code_guessing", merchant.merchant.id)
    ]

    # Cooling down: every code is refused, the valid one too, and nothing is charged.
    valid = await show_code(shop, payer)
    before = await everything(shop, payer)
    for code in (unknown_code(), valid):
        body = assert_problem(await charge_with(shop, merchant, code), 429, "too_many_attempts")
        assert body["retry_after"] == COOLDOWN
    assert await everything(shop, payer) == before
    assert await locks_recorded(shop) == (audits, alerts)  # alerted once, not per refusal

    # Another merchant is not affected; this one is again after the cool-down.
    other = await shop.merchant("Other Shop")
    assert (await charge_with(shop, other, await show_code(shop, payer))).status_code == 201
    shop.clock.advance(timedelta(seconds=COOLDOWN - 1))
    assert (await charge_with(shop, merchant, unknown_code())).status_code == 429
    shop.clock.advance(timedelta(seconds=1))
    assert (await charge_with(shop, merchant, await show_code(shop, payer))).status_code == 201
    assert_problem(await charge_with(shop, merchant, unknown_code()), 422, "payment_code_invalid")


async def test_failures_age_out_of_the_window(guarded: Shop) -> None:
    shop = guarded
    merchant = await shop.merchant()
    for _ in range(9):
        await charge_with(shop, merchant, unknown_code())
    shop.clock.advance(timedelta(seconds=301))
    for _ in range(9):  # a fresh window: nine more are answered, no lock
        assert_problem(
            await charge_with(shop, merchant, unknown_code()), 422, "payment_code_invalid"
        )
    assert await locks_recorded(shop) == ([], [])


async def test_a_terminal_has_a_budget_of_its_own(guarded: Shop) -> None:
    shop = guarded
    merchant = await shop.merchant()
    payer = await shop.customer("+8613900000802", "100.00")
    for _ in range(4):
        response = await charge_with(shop, merchant, unknown_code(), terminal="till-1")
        assert_problem(response, 422, "payment_code_invalid")
    refused = await charge_with(shop, merchant, await show_code(shop, payer), terminal="till-1")
    assert_problem(refused, 429, "too_many_attempts")
    # The key has spent 4 of its 10: other tills, and charges naming none, go on.
    other_till = await charge_with(shop, merchant, await show_code(shop, payer), terminal="till-2")
    assert other_till.status_code == 201, other_till.text
    assert (await charge_with(shop, merchant, await show_code(shop, payer))).status_code == 201
    audits, _ = await locks_recorded(shop)
    assert [a.details.get("terminal_id") for a in audits] == ["till-1"]


async def test_a_parallel_burst_gets_exactly_the_budget(guarded: Shop) -> None:
    shop = guarded
    merchant = await shop.merchant()
    responses = await asyncio.gather(
        *(charge_with(shop, merchant, unknown_code()) for _ in range(25))
    )
    codes = sorted(response.json()["code"] for response in responses)
    assert codes == ["payment_code_invalid"] * 10 + ["too_many_attempts"] * 15
    audits, alerts = await locks_recorded(shop)
    assert (len(audits), len(alerts)) == (1, 1)
