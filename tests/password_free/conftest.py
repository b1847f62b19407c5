"""Password-free payment tests: the shop harness with a small no-PIN count (3 a day), so the
count limit is reached in a few payments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import make_app
from tests.fixtures.serving import serving
from tests.fixtures.shop import PIN, Shop, TestUser, clock, shop_settings

__all__ = ["PIN", "Shop", "TestUser", "clock", "shop"]

SETTING = "/v1/me/password-free-payments"
NO_PIN_COUNT = 3


@pytest.fixture
async def shop(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> AsyncIterator[Shop]:
    quick = shop_settings(settings, limit_daily_no_pin_count=NO_PIN_COUNT)
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Shop(engine, quick, clock, security, client, app_services(app), app)


async def put_setting(shop: Shop, user: TestUser, **body: Any) -> httpx.Response:
    return await shop.client.put(SETTING, json=body, headers=shop.auth(user))


async def turn_on(shop: Shop, user: TestUser, cap: str = "200.00") -> None:
    response = await put_setting(
        shop, user, enabled=True, per_payment_cap=cap, payment_password=PIN
    )
    assert response.status_code == 200, response.text


async def pay_without_pin(
    shop: Shop, user: TestUser, order_id: str, *, key: str | None = None
) -> httpx.Response:
    return await shop.client.post(
        "/v1/payments",
        json={"order_id": order_id},
        headers=shop.auth(user, **{"Idempotency-Key": key or f"nopin-{order_id}"}),
    )
