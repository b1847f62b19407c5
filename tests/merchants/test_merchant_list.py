"""``GET /v1/staff/merchants``: newest first, searched by id or name, filtered by status,
paged by cursor; operators and admins only, and never a credential in the answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ewallet.audit.service import Actor
from ewallet.kit.errors import ValidationFailedError
from ewallet.merchants import service
from ewallet.models.tables import audit_events, ledger_accounts, merchants
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop
from tests.fixtures.staff import audit_actions, bearer, make_staff, staff_token

PATH = "/v1/staff/merchants"
STAFF = Actor("staff", "stf_operator")


async def rows(shop: Shop) -> tuple[Any, ...]:
    """Every merchant row, and how many ledger accounts and audit events there are."""
    async with shop.engine.connect() as conn:
        found = (await conn.execute(select(merchants).order_by(merchants.c.id))).all()
        accounts = await conn.scalar(select(func.count()).select_from(ledger_accounts))
        events = await conn.scalar(select(func.count()).select_from(audit_events))
    return tuple(tuple(row) for row in found), accounts, events


async def token_for(shop: Shop, role: str) -> dict[str, str]:
    member = await make_staff(shop.engine, shop.security, shop.clock, role)
    return bearer(
        await staff_token(shop.engine, shop.security, shop.settings, shop.clock, member.id)
    )


async def test_newest_first_with_search_status_and_pages(shop: Shop) -> None:
    names = ["Tea House", "Noodle Bar", "TEA & Cake 100%", "Book_Shop", "Tea Garden"]
    made = []
    for name in names:
        made.append(await shop.merchant(name))
        shop.clock.advance(timedelta(minutes=1))
    ids = [m.merchant.id for m in made]
    operator = await token_for(shop, "operator")
    await shop.client.patch(f"{PATH}/{ids[4]}", json={"status": "disabled"}, headers=operator)

    listed = await shop.client.get(PATH, headers=operator)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [item["id"] for item in body["items"]] == ids[::-1]
    assert body["next_cursor"] is None
    assert set(body["items"][0]) == {
        "id", "name", "category", "status", "accepts_wallet", "webhook_url",
        "fee_rate_bp", "fee_minimum", "created_at", "updated_at",
    }  # fmt: skip
    assert "mk_" not in listed.text
    assert "whsec_" not in listed.text

    async def found(**params: str) -> list[str]:
        response = await shop.client.get(PATH, params=params, headers=operator)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert await found(q="tea") == ["Tea Garden", "TEA & Cake 100%", "Tea House"]
    assert await found(q="  tea  ", status="active") == ["TEA & Cake 100%", "Tea House"]
    assert await found(status="disabled") == ["Tea Garden"]
    assert await found(q="100%") == ["TEA & Cake 100%"]  # % is a character, not a wildcard
    assert await found(q="k_s") == ["Book_Shop"]  # and so is _
    assert await found(q="0%") == ["TEA & Cake 100%"]
    assert await found(q="%") == ["TEA & Cake 100%"]
    assert await found(q=ids[1]) == ["Noodle Bar"]  # an id, exactly
    assert await found(q=ids[1][:-1]) == []
    assert await found(q="nothing like it") == []

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await shop.client.get(PATH, params=params, headers=operator)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    assert cursor is None


async def test_merchants_made_in_the_same_instant_page_by_id(shop: Shop) -> None:
    ids = [(await shop.merchant(f"Stall {n}")).merchant.id for n in range(5)]
    first = await service.list_merchants(shop.services, limit=3)
    rest = await service.list_merchants(shop.services, limit=3, cursor=first.next_cursor)
    assert [m.id for m in first.items + rest.items] == sorted(ids, reverse=True)
    assert rest.next_cursor is None


async def test_roles_and_refusals(shop: Shop) -> None:
    await shop.merchant()
    assert_problem(await shop.client.get(PATH), 401, "unauthorized")
    for role in ("support_agent", "teller", "teller_supervisor", "risk_officer"):
        assert_problem(
            await shop.client.get(PATH, headers=await token_for(shop, role)), 403, "forbidden"
        )
    admin = await token_for(shop, "admin")
    assert (await shop.client.get(PATH, headers=admin)).status_code == 200
    for params in (
        {"limit": "0"},
        {"limit": "101"},
        {"status": "closed"},
        {"cursor": "not-a-cursor"},
        {"cursor": "e30"},  # {} : no position
        {"q": "x" * 101},
    ):
        assert_problem(
            await shop.client.get(PATH, params=params, headers=admin), 422, "validation_error"
        )


async def test_the_route_is_in_the_openapi_document(shop: Shop) -> None:
    document = (await shop.client.get("/openapi.json")).json()
    operation = document["paths"][PATH]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "status", "limit", "cursor"}
    assert {"401", "403", "422"} <= set(operation["responses"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"category": "Food"}, "category"),
        ({"category": ""}, "category"),
        ({"status": "closed"}, "status"),
        ({"webhook_url": "javascript:alert(1)"}, "webhook_url"),
        ({"webhook_url": "https://x.example/" + "a" * 500}, "webhook_url"),
        ({"webhook_url": "/relative"}, "webhook_url"),
    ],
)
async def test_the_service_refuses_what_the_api_schema_refuses(
    shop: Shop, changes: dict[str, Any], field: str
) -> None:
    made = await shop.merchant("Tea House")
    before = await rows(shop)
    with pytest.raises(ValidationFailedError) as refused:
        await service.update_merchant(
            shop.services, STAFF, merchant_id=made.merchant.id, changes=changes
        )
    assert refused.value.extra["field"] == field
    if field != "status":
        fields = {"name": "Tea House", "category": "food", "webhook_url": None} | changes
        with pytest.raises(ValidationFailedError):
            await service.create_merchant(shop.services, STAFF, **fields)
    assert await rows(shop) == before


async def test_a_change_to_the_same_values_records_nothing(shop: Shop) -> None:
    made = (await shop.merchant("Tea House")).merchant
    audited = await audit_actions(shop.engine)
    same = {"name": made.name, "category": made.category, "accepts_wallet": True}
    view = await service.update_merchant(
        shop.services, STAFF, merchant_id=made.id, changes=same | {"webhook_url": None}
    )
    assert view == made
    assert await audit_actions(shop.engine) == audited
    renamed = await service.update_merchant(
        shop.services, STAFF, merchant_id=made.id, changes=same | {"name": "Tea Rooms"}
    )
    assert renamed.name == "Tea Rooms"
    action, _, subject = (await audit_actions(shop.engine))[-1]
    assert (action, subject) == ("merchant.updated", made.id)
