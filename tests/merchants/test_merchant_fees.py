"""Staff set a merchant's fee terms (``PATCH /v1/staff/merchants/{id}``): operators and
admins only, within bounds, audited; a refusal changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

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


async def merchant_row(shop: Shop, merchant_id: str) -> dict[str, Any]:
    async with shop.engine.connect() as conn:
        row = (await conn.execute(select(merchants).where(merchants.c.id == merchant_id))).one()
    return dict(row._mapping)


async def test_fee_terms_are_set_shown_and_audited(shop: Shop) -> None:
    admin = await token_for(shop, "admin")
    merchant = await shop.merchant()
    path = f"/v1/staff/merchants/{merchant.merchant.id}"
    before = (await shop.client.get(path, headers=admin)).json()["merchant"]
    assert (before["fee_rate_bp"], before["fee_minimum"]) == (None, None)  # the defaults
    changed = await shop.client.patch(
        path, json={"fee_rate_bp": 60, "fee_minimum": "0.1"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    row = await merchant_row(shop, merchant.merchant.id)
    assert (row["fee_rate_bp"], row["fee_minimum"]) == (60, 10)
    shown = (await shop.client.get(path, headers=admin)).json()["merchant"]
    assert shown["fee_rate_bp"] == 60
    assert shown["fee_minimum"] == {"amount": "0.10", "currency": "CNY"}
    listed = (await shop.client.get("/v1/staff/merchants", headers=admin)).json()["items"]
    assert listed[0]["fee_rate_bp"] == 60
    # Zero is a term of its own (no fee, no minimum), not the default.
    zero = await shop.client.patch(path, json={"fee_rate_bp": 0, "fee_minimum": "0"}, headers=admin)
    assert (zero.json()["merchant"]["fee_rate_bp"], zero.json()["merchant"]["fee_minimum"]) == (
        0,
        {"amount": "0.00", "currency": "CNY"},
    )
    updates = [(a, s) for a, _, s in await audit_actions(shop.engine) if a == "merchant.updated"]
    assert updates == [("merchant.updated", merchant.merchant.id)] * 2
    # The same terms again change nothing and record nothing.
    await shop.client.patch(path, json={"fee_rate_bp": 0}, headers=admin)
    assert [a for a, _, _ in await audit_actions(shop.engine)].count("merchant.updated") == 2


async def test_only_operations_staff_may_change_fees(shop: Shop) -> None:
    merchant = await shop.merchant()
    path = f"/v1/staff/merchants/{merchant.merchant.id}"
    before = await merchant_row(shop, merchant.merchant.id)
    for role in ("support_agent", "teller", "teller_supervisor", "risk_officer"):
        token = await token_for(shop, role)
        assert_problem(
            await shop.client.patch(path, json={"fee_rate_bp": 1}, headers=token),
            403,
            "forbidden",
        )
    assert_problem(await shop.client.patch(path, json={"fee_rate_bp": 1}), 401, "unauthorized")
    assert await merchant_row(shop, merchant.merchant.id) == before
    assert "merchant.updated" not in [a for a, _, _ in await audit_actions(shop.engine)]


async def test_out_of_bounds_terms_are_refused_and_change_nothing(shop: Shop) -> None:
    operator = await token_for(shop, "operator")
    merchant = await shop.merchant()
    path = f"/v1/staff/merchants/{merchant.merchant.id}"
    before = await merchant_row(shop, merchant.merchant.id)
    for body in (
        {"fee_rate_bp": 1001},
        {"fee_rate_bp": -1},
        {"fee_rate_bp": "38"},
        {"fee_rate_bp": 3.8},
        {"fee_rate_bp": True},
        {"fee_minimum": "100.01"},
        {"fee_minimum": "-1"},
        {"fee_minimum": "0.001"},
        {"fee_minimum": 10},
        {"fee_minimum": "1e2"},
        # One bad term refuses the good change next to it.
        {"name": "Renamed", "fee_rate_bp": 5000},
    ):
        response = await shop.client.patch(path, json=body, headers=operator)
        assert_problem(response, 422, "validation_error")
    assert await merchant_row(shop, merchant.merchant.id) == before
    assert "merchant.updated" not in [a for a, _, _ in await audit_actions(shop.engine)]
    highest = await shop.client.patch(
        path, json={"fee_rate_bp": 1000, "fee_minimum": "100.00"}, headers=operator
    )
    assert highest.status_code == 200, highest.text
