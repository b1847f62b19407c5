"""Personal receive codes over HTTP on both databases: read, fix an amount, reset, pay."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from ewallet.ledger.verify import verify_ledger
from ewallet.models.tables import transfers
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.transfers import balance, money_snapshot
from tests.money_requests.conftest import freeze, people


async def my_code(harness: Harness, user: TestUser) -> dict[str, Any]:
    response = await harness.client.get("/v1/me/receive-code", headers=harness.auth(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def pay(
    harness: Harness, payer: TestUser, token: str, amount: str | None, *, pin: str = PIN
) -> httpx.Response:
    body: dict[str, Any] = {"payment_password": pin}
    if amount is not None:
        body["amount"] = amount
    return await harness.client.post(
        f"/v1/receive-codes/{token}/transfers",
        json=body,
        headers=harness.auth(payer, **{"Idempotency-Key": f"rc-{uuid.uuid4()}"}),
    )


async def test_the_code_is_stable_unguessable_and_encodes_the_pay_page(harness: Harness) -> None:
    alice, _ = await people(harness)
    first = await my_code(harness, alice)
    assert len(first["token"]) == 32
    assert first["url"].endswith(f"/r/{first['token']}")
    assert first["amount"] is None
    assert first["qr_svg"].startswith("<svg")
    assert (await my_code(harness, alice))["token"] == first["token"]
    png = await harness.client.get("/v1/me/receive-code/qr.png", headers=harness.auth(alice))
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


async def test_paying_a_code_without_a_fixed_amount_is_a_transfer(harness: Harness) -> None:
    alice, bob = await people(harness)
    token = (await my_code(harness, alice))["token"]
    seen = await harness.client.get(f"/v1/receive-codes/{token}", headers=harness.auth(bob))
    assert seen.status_code == 200, seen.text
    assert seen.json() == {
        "payee": {"phone_masked": "138****0001", "name_masked": "*丽"},
        "new_payee": True,
        "amount": None,
        "note": None,
    }
    assert_problem(await pay(harness, bob, token, None), 422, "validation_error")
    response = await pay(harness, bob, token, "12.30")
    assert response.status_code == 201, response.text
    assert response.json()["transfer"]["amount"] == {"amount": "12.30", "currency": "CNY"}
    assert await balance(harness, alice) == 12_30
    assert await balance(harness, bob) == 1000_00 - 12_30
    assert await harness.kinds(alice) == ["transfer_received"]
    assert (await verify_ledger(harness.engine)).clean


async def test_a_fixed_amount_is_the_amount(harness: Harness) -> None:
    alice, bob = await people(harness)
    fixed = await harness.client.put(
        "/v1/me/receive-code",
        json={"amount": "8.80", "note": "奶茶"},
        headers=harness.auth(alice),
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["amount"] == {"amount": "8.80", "currency": "CNY"}
    token = fixed.json()["token"]
    seen = await harness.client.get(f"/v1/receive-codes/{token}", headers=harness.auth(bob))
    assert seen.json()["amount"] == {"amount": "8.80", "currency": "CNY"}
    assert seen.json()["note"] == "奶茶"
    before = await money_snapshot(harness, alice, bob)
    assert_problem(await pay(harness, bob, token, "9.00"), 422, "validation_error")
    assert await money_snapshot(harness, alice, bob) == before
    paid = await pay(harness, bob, token, None)
    assert paid.status_code == 201, paid.text
    assert paid.json()["transfer"]["memo"] == "奶茶"
    assert await balance(harness, alice) == 8_80
    # Cleared: any amount again.
    cleared = await harness.client.put(
        "/v1/me/receive-code", json={"amount": None, "note": None}, headers=harness.auth(alice)
    )
    assert cleared.json()["amount"] is None
    assert cleared.json()["token"] == token


async def test_a_reset_code_stops_working_at_once(harness: Harness) -> None:
    alice, bob = await people(harness)
    old = (await my_code(harness, alice))["token"]
    reset = await harness.client.post("/v1/me/receive-code/reset", headers=harness.auth(alice))
    assert reset.status_code == 200
    new = reset.json()["token"]
    assert new != old
    before = await money_snapshot(harness, alice, bob)
    assert_problem(
        await harness.client.get(f"/v1/receive-codes/{old}", headers=harness.auth(bob)),
        404,
        "not_found",
    )
    assert_problem(await pay(harness, bob, old, "1.00"), 404, "not_found")
    assert await money_snapshot(harness, alice, bob) == before
    assert (await pay(harness, bob, new, "1.00")).status_code == 201


async def test_paying_ones_own_code_is_refused(harness: Harness) -> None:
    alice, bob = await people(harness)
    token = (await my_code(harness, bob))["token"]
    before = await money_snapshot(harness, alice, bob)
    seen = await harness.client.get(f"/v1/receive-codes/{token}", headers=harness.auth(bob))
    assert_problem(seen, 422, "transfer_to_self")
    assert_problem(await pay(harness, bob, token, "1.00"), 422, "transfer_to_self")
    assert await money_snapshot(harness, alice, bob) == before


async def test_a_frozen_payees_code_is_refused_with_nothing_moved(harness: Harness) -> None:
    alice, bob = await people(harness)
    token = (await my_code(harness, alice))["token"]
    await freeze(harness, alice)
    before = await money_snapshot(harness, alice, bob)
    seen = await harness.client.get(f"/v1/receive-codes/{token}", headers=harness.auth(bob))
    assert_problem(seen, 409, "payee_account_frozen")
    assert_problem(await pay(harness, bob, token, "1.00"), 409, "payee_account_frozen")
    assert await money_snapshot(harness, alice, bob) == before
    assert await harness.count(transfers) == 0


async def test_an_unknown_token_is_not_found(harness: Harness) -> None:
    _, bob = await people(harness)
    for token in ("x" * 32, "y" * 200):
        response = await harness.client.get(f"/v1/receive-codes/{token}", headers=harness.auth(bob))
        assert_problem(response, 404, "not_found")
