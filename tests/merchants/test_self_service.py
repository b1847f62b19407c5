"""A merchant's self-service through its own API key: its record (credentials masked), its
webhook URL (the staff route's checks; a refusal keeps the old URL), key rotation (the old
key is refused at once), each audited with the merchant as the actor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ewallet.models.tables import audit_events
from tests.fixtures.accounts import assert_problem, make_app
from tests.fixtures.serving import serving
from tests.fixtures.shop import Shop


async def merchant_events(shop: Shop) -> list[tuple[str, str, str | None]]:
    async with shop.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_events.c.action, audit_events.c.actor_type, audit_events.c.actor_id)
            .where(audit_events.c.actor_type == "merchant")
            .order_by(audit_events.c.id)
        )
        return [(row.action, row.actor_type, row.actor_id) for row in rows]


async def test_the_account_is_the_callers_own_and_masked(shop: Shop) -> None:
    merchant = await shop.merchant("Tea House", webhook_url="https://tea.example/hook")
    await shop.merchant("Someone Else")
    response = await shop.client.get("/v1/merchant/account", headers=shop.key(merchant))
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()["account"]
    assert account["id"] == merchant.merchant.id
    assert account["name"] == "Tea House"
    assert account["webhook_url"] == "https://tea.example/hook"
    assert account["api_key"] == "mk_****"
    assert account["webhook_secret"] == "whsec_****"
    assert merchant.api_key not in response.text
    assert merchant.webhook_secret not in response.text
    assert_problem(await shop.client.get("/v1/merchant/account"), 401, "unauthorized")
    wrong = {"Authorization": "Bearer mk_0000000000000000_" + "a" * 43}
    assert_problem(
        await shop.client.get("/v1/merchant/account", headers=wrong), 401, "unauthorized"
    )


async def test_webhook_url_set_refused_and_cleared(shop: Shop) -> None:
    merchant = await shop.merchant(webhook_url="https://old.example/hook")
    key = shop.key(merchant)
    changed = await shop.client.put(
        "/v1/merchant/webhook", json={"url": "https://new.example/hook"}, headers=key
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["account"]["webhook_url"] == "https://new.example/hook"
    assert await merchant_events(shop) == [("merchant.updated", "merchant", merchant.merchant.id)]

    for bad in ("ftp://x.example/", "not a url", "https:///no-host", "https://x/" + "a" * 600):
        refused = await shop.client.put("/v1/merchant/webhook", json={"url": bad}, headers=key)
        assert_problem(refused, 422, "validation_error")
    missing = await shop.client.put("/v1/merchant/webhook", json={}, headers=key)
    assert_problem(missing, 422, "validation_error")
    account = await shop.client.get("/v1/merchant/account", headers=key)
    assert account.json()["account"]["webhook_url"] == "https://new.example/hook"
    assert len(await merchant_events(shop)) == 1  # refusals record nothing

    cleared = await shop.client.put("/v1/merchant/webhook", json={"url": None}, headers=key)
    assert cleared.status_code == 200
    assert cleared.json()["account"]["webhook_url"] is None


async def test_rotation_stops_the_old_key_at_once(shop: Shop) -> None:
    merchant = await shop.merchant()
    other = await shop.merchant("Other")
    old = shop.key(merchant)
    order_id = await shop.order(merchant, "1.00")
    rotated = await shop.client.post("/v1/merchant/keys/rotate", headers=old)
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()["api_key"]
    assert new_key.startswith("mk_")
    assert new_key != merchant.api_key
    assert rotated.json()["account"]["id"] == merchant.merchant.id

    assert_problem(await shop.client.get("/v1/merchant/account", headers=old), 401, "unauthorized")
    assert_problem(
        await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=old), 401, "unauthorized"
    )
    assert_problem(
        await shop.client.post("/v1/merchant/keys/rotate", headers=old), 401, "unauthorized"
    )
    new = {"Authorization": f"Bearer {new_key}"}
    assert (
        await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=new)
    ).status_code == 200
    # The other merchant's key is untouched, and it still cannot see this order.
    assert (
        await shop.client.get("/v1/merchant/account", headers=shop.key(other))
    ).status_code == 200
    theirs = await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(other))
    assert_problem(theirs, 404, "not_found")
    assert await merchant_events(shop) == [
        ("merchant.key_rotated", "merchant", merchant.merchant.id)
    ]


async def test_a_rotated_key_is_refused_by_every_server_at_once(shop: Shop) -> None:
    """A second app over the same database stands for another process: it authenticated the
    old key a moment ago, and refuses it on the very next request after the rotation."""
    merchant = await shop.merchant()
    old = shop.key(merchant)
    async with serving(make_app(shop.settings, shop.clock)) as elsewhere:
        assert (await elsewhere.get("/v1/merchant/account", headers=old)).status_code == 200
        rotated = await shop.client.post("/v1/merchant/keys/rotate", headers=old)
        assert rotated.status_code == 200
        refused = await elsewhere.get("/v1/merchant/account", headers=old)
        assert_problem(refused, 401, "unauthorized")
        new = {"Authorization": f"Bearer {rotated.json()['api_key']}"}
        assert (await elsewhere.get("/v1/merchant/account", headers=new)).status_code == 200
