"""``/v1/staff/merchants`` and ``ewallet merchant create``: keys shown once, stored hashed,
rotatable; wallet acceptance switchable; every change audit-logged."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import Table, select
from typer.testing import CliRunner

from ewallet.cli.main import app as cli
from ewallet.models.merchants import Merchant
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop
from tests.fixtures.staff import audit_actions, bearer, make_staff, staff_token

merchants: Table = Merchant.__table__  # type: ignore[assignment]


async def token_for(shop: Shop, role: str) -> dict[str, str]:
    member = await make_staff(shop.engine, shop.security, shop.clock, role)
    return bearer(
        await staff_token(shop.engine, shop.security, shop.settings, shop.clock, member.id)
    )


async def test_operator_creates_a_merchant_whose_key_works(shop: Shop) -> None:
    operator = await token_for(shop, "operator")
    response = await shop.client.post(
        "/v1/staff/merchants",
        json={"name": "Tea House", "category": "food", "webhook_url": "https://tea.example/hook"},
        headers=operator,
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["api_key"].startswith("mk_")
    assert body["webhook_secret"].startswith("whsec_")
    merchant = body["merchant"]
    assert (merchant["name"], merchant["category"], merchant["accepts_wallet"]) == (
        "Tea House",
        "food",
        True,
    )
    async with shop.engine.connect() as conn:
        row = (await conn.execute(select(merchants))).one()
    # Neither credential is stored in clear.
    assert body["api_key"] not in str(tuple(row))
    assert body["webhook_secret"] not in str(tuple(row))
    order = await shop.client.post(
        "/v1/merchant/orders",
        json={"out_trade_no": "1", "amount": "1.00", "subject": "tea"},
        headers=bearer(body["api_key"]),
    )
    assert order.status_code == 201
    assert await shop.posted(f"merchant:{merchant['id']}:CNY") == 0  # the account is open
    assert ("merchant.created", merchant["id"]) in {
        (a, s) for a, _, s in await audit_actions(shop.engine)
    }


async def test_roles_and_validation(shop: Shop) -> None:
    agent = await token_for(shop, "support_agent")
    assert_problem(
        await shop.client.post("/v1/staff/merchants", json={"name": "X"}, headers=agent),
        403,
        "forbidden",
    )
    assert_problem(
        await shop.client.post("/v1/staff/merchants", json={"name": "X"}), 401, "unauthorized"
    )
    admin = await token_for(shop, "admin")
    for body in (
        {"name": ""},
        {"name": "X", "webhook_url": "javascript:alert(1)"},
        {"name": "X", "extra": 1},
    ):
        response = await shop.client.post("/v1/staff/merchants", json=body, headers=admin)
        assert_problem(response, 422, "validation_error")
    assert_problem(
        await shop.client.patch("/v1/staff/merchants/mch_missing", json={}, headers=admin),
        404,
        "not_found",
    )


async def test_rotating_the_key_retires_the_old_one(shop: Shop) -> None:
    operator = await token_for(shop, "operator")
    merchant = await shop.merchant()
    order_id = await shop.order(merchant, "1.00")
    rotated = await shop.client.post(
        f"/v1/staff/merchants/{merchant.merchant.id}/rotate-key", headers=operator
    )
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()["api_key"]
    assert new_key != merchant.api_key
    path = f"/v1/merchant/orders/{order_id}"
    assert_problem(await shop.client.get(path, headers=shop.key(merchant)), 401, "unauthorized")
    assert (await shop.client.get(path, headers=bearer(new_key))).status_code == 200


async def test_switching_wallet_acceptance_and_disabling(shop: Shop) -> None:
    operator = await token_for(shop, "operator")
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000501", "20.00")
    order_id = await shop.order(merchant, "1.00")
    path = f"/v1/staff/merchants/{merchant.merchant.id}"
    off = await shop.client.patch(path, json={"accepts_wallet": False}, headers=operator)
    assert off.status_code == 200
    assert off.json()["merchant"]["accepts_wallet"] is False
    assert_problem(await shop.pay(user, order_id), 422, "merchant_not_supported")
    on = await shop.client.patch(path, json={"accepts_wallet": True}, headers=operator)
    assert on.json()["merchant"]["accepts_wallet"] is True
    assert (await shop.pay(user, order_id, key="again")).status_code == 201
    disabled = await shop.client.patch(path, json={"status": "disabled"}, headers=operator)
    assert disabled.json()["merchant"]["status"] == "disabled"
    read = await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant))
    assert_problem(read, 401, "unauthorized")
    actions = [a for a, _, _ in await audit_actions(shop.engine)]
    assert actions.count("merchant.updated") == 3


@pytest.fixture
def cli_env(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = shop.settings
    assert settings.secret_key is not None
    assert settings.pin_pepper is not None
    monkeypatch.setenv("EWALLET_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("EWALLET_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("EWALLET_PIN_PEPPER", settings.pin_pepper.get_secret_value())


@pytest.mark.usefixtures("cli_env")
async def test_cli_create_prints_working_credentials(shop: Shop) -> None:
    args = ["merchant", "create", "--name", "Noodle Bar", "--no-wallet", "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, cli, args)
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["accepts_wallet"] is False
    assert created["webhook_secret"].startswith("whsec_")
    response = await shop.client.post(
        "/v1/merchant/orders",
        json={"out_trade_no": "cli-1", "amount": "2.00", "subject": "noodles"},
        headers=bearer(created["api_key"]),
    )
    assert response.status_code == 201, response.text
    user = await shop.customer("+8613900000502", "20.00")
    assert_problem(
        await shop.pay(user, response.json()["order"]["id"]), 422, "merchant_not_supported"
    )
    refused = await asyncio.to_thread(
        CliRunner().invoke, cli, ["merchant", "create", "--name", "X", "--webhook-url", "nope"]
    )
    assert refused.exit_code == 2
