"""Finding a customer by phone number, id or ticket: masked by role, every search audited,
refusals (no session, wrong role, bad input) leave nothing behind."""

from __future__ import annotations

from tests.fixtures.shop import PIN
from tests.staff_lookup.world import Desk

PHONE = "+8613812345678"


async def test_search_by_phone_id_and_ticket_masked_by_role(desk: Desk) -> None:
    customer = await desk.shop.user(phone=PHONE, pin=PIN)
    opened = await desk.http.post(
        "/v1/support/tickets",
        json={"subject": "Charged twice", "body": "The bakery charged me twice."},
        headers=desk.shop.auth(customer),
    )
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    agent_id, agent = await desk.staff("support_agent")
    _, risk = await desk.staff("risk_officer")

    searches = [
        ({"phone": "138 1234 5678"}, "phone"),
        ({"q": "+86 138-1234-5678"}, "phone"),
        ({"user_id": customer.id}, "user_id"),
        ({"q": customer.id.upper()}, "user_id"),
        ({"ticket": ticket["reference"].lower()}, "ticket"),
        ({"ticket": ticket["id"]}, "ticket"),
        ({"q": ticket["reference"]}, "ticket"),
    ]
    for params, matched_by in searches:
        found = await desk.http.get("/v1/staff/customers", params=params, headers=agent)
        assert found.status_code == 200, (params, found.text)
        body = found.json()
        assert body["matched_by"] == matched_by
        assert [(c["id"], c["phone"], c["phone_masked"]) for c in body["items"]] == [
            (customer.id, "138****5678", True)
        ], params
    assert body["items"][0]["status"] == "active"

    full = await desk.http.get("/v1/staff/customers", params={"phone": PHONE}, headers=risk)
    assert [c["phone"] for c in full.json()["items"]] == [PHONE]

    nobody = await desk.http.get(
        "/v1/staff/customers", params={"phone": "13900000000"}, headers=agent
    )
    assert nobody.status_code == 200
    assert nobody.json() == {"matched_by": "phone", "items": []}

    searched = await desk.events("support.customers_searched")
    assert len(searched) == len(searches) + 2
    first = searched[0]
    assert (first.actor_type, first.actor_id) == ("staff", agent_id)
    assert (first.subject_type, first.subject_id) == ("user", customer.id)
    assert first.details["by"] == "phone"
    assert first.details["query"] == "138****5678"  # the number searched for, masked
    assert first.details["matches"] == [customer.id]
    assert searched[-1].subject_id is None
    assert searched[-1].details["matches"] == []
    assert all(PHONE not in str(event.details) for event in searched)


async def test_refusals_change_nothing(desk: Desk) -> None:
    customer = await desk.shop.user(phone=PHONE, pin=PIN)
    _, agent = await desk.staff("support_agent")
    _, teller = await desk.staff("teller")
    _, operator = await desk.staff("operator")
    before = await desk.audit_count()

    bad = [
        ({"phone": "12345"}, "invalid_phone"),
        ({}, "validation_error"),
        ({"phone": PHONE, "user_id": customer.id}, "validation_error"),
        ({"q": "Zhang San"}, "validation_error"),
        ({"q": "x" * 65}, "validation_error"),
    ]
    for params, code in bad:
        refused = await desk.http.get("/v1/staff/customers", params=params, headers=agent)
        assert (refused.status_code, refused.json()["code"]) == (422, code), params

    for headers, status in (
        ({}, 401),
        (desk.shop.auth(customer), 401),
        (teller, 403),
        (operator, 403),
    ):
        refused = await desk.http.get(
            "/v1/staff/customers", params={"phone": PHONE}, headers=headers
        )
        assert refused.status_code == status
        assert "items" not in refused.json()
    assert await desk.audit_count() == before
