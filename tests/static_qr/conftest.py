"""Static-QR tests: the shop harness (a served app on SQLite and PostgreSQL) plus helpers
for stores, codes and paying them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Table, select

from ewallet.ledger import chart
from ewallet.merchants.views import NewMerchant
from ewallet.models.ledger import LedgerAccount
from ewallet.models.outbox import OutboxEvent
from ewallet.models.payments import Order
from ewallet.models.static_qr import StaticQrCode
from tests.conftest import BACKENDS
from tests.fixtures.shop import (
    PIN,
    Shop,
    TestUser,
    clock,
    ledger_transactions,
    payments,
    shop,
    spend_records,
)
from tests.fixtures.web import LiveWallet, PageErrors, launch_browser, live_wallet_for, open_page

__all__ = [
    "PIN",
    "Shop",
    "TestUser",
    "clock",
    "ledger_transactions",
    "payments",
    "shop",
    "spend_records",
]

orders = cast(Table, Order.__table__)
outbox = cast(Table, OutboxEvent.__table__)
codes_table = cast(Table, StaticQrCode.__table__)
accounts = cast(Table, LedgerAccount.__table__)


async def open_store(shop: Shop, merchant: NewMerchant, name: str, **fields: Any) -> str:
    response = await shop.client.post(
        "/v1/merchant/stores", json={"name": name, **fields}, headers=shop.key(merchant)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["store"]["id"])


async def codes(shop: Shop, merchant: NewMerchant) -> list[dict[str, Any]]:
    response = await shop.client.get("/v1/merchant/static-qr", headers=shop.key(merchant))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def code_of(shop: Shop, merchant: NewMerchant, store_id: str | None = None) -> str:
    """The token of the merchant's own code, or of one store's."""
    for item in await codes(shop, merchant):
        if item["store_id"] == store_id:
            return str(item["token"])
    raise AssertionError(f"no code for {store_id}")


async def pay_qr(
    shop: Shop,
    user: TestUser,
    token: str,
    amount: str | None = "12.30",
    *,
    pin: str | None = PIN,
    key: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"token": token}
    if amount is not None:
        body["amount"] = amount
    if pin is not None:
        body["payment_password"] = pin
    return await shop.client.post(
        "/v1/payments/static-qr",
        json=body,
        headers=shop.auth(user, **{"Idempotency-Key": key or f"qr-{token}-{amount}-{pin}"}),
    )


async def open_accounts(shop: Shop, user: TestUser, merchant: NewMerchant) -> None:
    """Open the payer's and merchant's ledger accounts beforehand (paying opens them in a
    unit of their own, before the money unit), so "nothing changed" compares like with like."""
    await chart.open_account(shop.ledger, chart.wallet(user.id))
    await chart.open_account(shop.ledger, chart.merchant(merchant.merchant.id))


async def state(shop: Shop, user: TestUser) -> dict[str, Any]:
    """Everything a refused payment must leave as it was (the user's row included)."""
    async with shop.engine.connect() as conn:
        balances = [
            tuple(row)
            for row in await conn.execute(
                select(
                    accounts.c.code,
                    accounts.c.posted,
                    accounts.c.pending_debits,
                    accounts.c.pending_credits,
                ).order_by(accounts.c.code)
            )
        ]
    # An account opened empty (the fee account, opened on first use outside the money
    # unit) holds no money: only accounts with a balance are compared.
    balances = [row for row in balances if any(row[1:])]
    return {
        **await shop.snapshot(user),
        "orders": await shop.count(orders),
        "payments": await shop.count(payments),
        "spend_records": await shop.count(spend_records),
        "ledger_transactions": await shop.count(ledger_transactions),
        "ledger_accounts": balances,
    }


# The web wallet's fixtures for the pay page's browser tests (as tests/web/conftest.py).
@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveWallet]:
    folder = tmp_path_factory.mktemp(f"web-static-qr-{request.param}")
    yield from live_wallet_for(str(request.param), request, folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized English page; the test fails if the page logged an error."""
    errors = PageErrors()
    opened = open_page(browser, errors=errors)
    yield opened
    opened.context.close()
    assert not errors, f"the page logged errors: {errors}"


@pytest.fixture
def page_zh(browser: Browser) -> Iterator[Page]:
    errors = PageErrors()
    opened = open_page(browser, locale="zh-CN", errors=errors)
    yield opened
    opened.context.close()
    assert not errors, f"the page logged errors: {errors}"
