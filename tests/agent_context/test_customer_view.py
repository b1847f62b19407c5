"""The agent's view of a customer: masked by role, audit-logged, freeze and unfreeze."""

from __future__ import annotations

from tests.fixtures.chat import ChatWorld, client, live
from tests.fixtures.staff import audit_actions


async def test_masking_by_role_audit_and_freeze(world: ChatWorld) -> None:
    user_id, customer = await world.customer(phone="+8613812345678")
    agent_id, agent = await world.agent("support_agent")
    risk_id, risk = await world.agent("risk_officer")
    _, teller = await world.agent("teller")
    async with live(world.app()) as address:
        async with client(address, agent) as http:
            seen = await http.get(f"/v1/staff/support/customers/{user_id}")
            assert seen.status_code == 200, seen.text
            body = seen.json()
            assert body["customer"]["phone"] == "138****5678"
            assert body["customer"]["freeze"]["frozen"] is False
            assert body["recent_transactions"] == []
            frozen = await http.post(
                f"/v1/staff/support/customers/{user_id}/freeze",
                json={"reason": "customer reported a stolen phone"},
            )
            assert frozen.status_code == 200, frozen.text
            assert frozen.json()["customer"]["freeze"]["frozen"] is True
            missing = await http.get("/v1/staff/support/customers/usr_nobody")
            assert missing.status_code == 404
        async with client(address, risk) as http:
            full = await http.get(f"/v1/staff/support/customers/{user_id}")
            assert full.json()["customer"]["phone"] == "+8613812345678"
            back = await http.post(
                f"/v1/staff/support/customers/{user_id}/unfreeze",
                json={"reason": "identity checked by video call"},
            )
            assert back.json()["customer"]["status"] == "active"
        async with client(address, teller) as http:
            refused = await http.get(f"/v1/staff/support/customers/{user_id}")
            assert refused.status_code == 403
        async with client(address, customer) as http:
            assert (await http.get(f"/v1/staff/support/customers/{user_id}")).status_code == 401
    views = [a for a in await audit_actions(world.engine) if a[0] == "support.customer_viewed"]
    assert (views[0][1], views[0][2]) == (agent_id, user_id)
    assert any(actor == risk_id for _, actor, _ in views)
    actions = [a[0] for a in await audit_actions(world.engine)]
    assert "account.frozen" in actions
    assert "account.unfrozen" in actions
