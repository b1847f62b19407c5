"""``GET /v1/staff/funding/pending``: unfinished money, oldest first, aged and masked."""

from __future__ import annotations

from datetime import timedelta

from ewallet.funding.topups.card.service import hold_unknown_in_suspense
from ewallet.funding.topups.views import TopupView
from ewallet.kit.money import Money
from tests.ops_health.conftest import Ops

PATH = "/v1/staff/funding/pending"


async def _world(ops: Ops) -> dict[str, str]:
    """Two customers with unfinished (and finished) top-ups and withdrawals."""
    ana = await ops.user(phone="+8613812345678")
    bo = await ops.user(phone="+8613900001111")
    ana_card, bo_card = await ops.card(ana.id), await ops.card(bo.id)
    ids = {
        "card_topup": await ops.topup(
            ana.id,
            method="card",
            status="pending",
            amount=12_345,
            created_at=ops.ago(minutes=40),
            card_id=ana_card,
        ),
        "old_withdrawal": await ops.withdrawal(
            bo.id, bo_card, status="pending", amount=50_000, created_at=ops.ago(minutes=10)
        ),
        "psp_topup": await ops.topup(
            bo.id,
            method="alipay",
            status="awaiting_payment",
            amount=2_000,
            created_at=ops.ago(minutes=2),
        ),
        "young_withdrawal": await ops.withdrawal(
            ana.id, ana_card, status="processing", amount=7_000, created_at=ops.ago(minutes=1)
        ),
    }
    # Finished ones are not listed.
    yesterday = ops.ago(days=1)
    await ops.topup(ana.id, method="card", status="succeeded", amount=1, created_at=yesterday)
    await ops.topup(bo.id, method="wechat_pay", status="closed", amount=1, created_at=yesterday)
    await ops.withdrawal(ana.id, ana_card, status="failed", amount=1, created_at=ops.ago(days=2))
    # The card top-up in doubt is carried in suspense, by the funding service itself.
    topup = TopupView(
        id=ids["card_topup"],
        user_id=ana.id,
        method="card",
        amount=Money(12_345, "CNY"),
        status="pending",
        provider_reference=None,
        ledger_transaction_id=None,
        created_at=ops.ago(minutes=40),
        completed_at=None,
    )
    assert await hold_unknown_in_suspense(ops.services, topup, bank_code="ICBC")
    ids["ana"], ids["bo"] = ana.id, bo.id
    return ids


async def test_lists_unfinished_money_oldest_first_with_age_and_where_it_sits(ops: Ops) -> None:
    ids = await _world(ops)
    operator = await ops.staffer("operator")

    answer = await ops.get(operator, PATH)

    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert [item["id"] for item in page["items"]] == [
        ids["card_topup"],
        ids["old_withdrawal"],
        ids["psp_topup"],
        ids["young_withdrawal"],
    ]
    card, old, psp, young = page["items"]
    now = ops.clock.now()
    assert card == {
        "kind": "topup",
        "id": ids["card_topup"],
        "state": "pending",
        "channel": "card",
        "amount": {"amount": "123.45", "currency": "CNY"},
        "fee": None,
        "user_id": ids["ana"],
        "phone_masked": "138****5678",
        "bank_name": "中国工商银行",
        "card_last_four": "4321",
        "created_at": (now - timedelta(minutes=40)).isoformat().replace("+00:00", "Z"),
        "age_seconds": 2400,
        "held_in": "suspense",
        "settled_by": "settle_job",
        "next_inquiry_at": None,
        "gives_up_at": (now - timedelta(minutes=10)).isoformat().replace("+00:00", "Z"),
        "overdue": True,  # 30 minutes of grace are over: the bank should have been asked
    }
    assert (old["kind"], old["state"], old["held_in"], old["overdue"]) == (
        "withdrawal",
        "pending",
        "wallet_hold",
        False,
    )
    assert old["fee"] == {"amount": "1.00", "currency": "CNY"}
    assert old["phone_masked"] == "139****1111"
    assert old["age_seconds"] == 600
    assert (psp["channel"], psp["settled_by"], psp["held_in"], psp["gives_up_at"]) == (
        "alipay",
        "psp_notice",
        None,
        None,
    )
    assert psp["bank_name"] is None
    assert psp["overdue"] is False
    # A young withdrawal still being asked: the settle job looks at it after five minutes.
    assert young["state"] == "processing"
    assert young["next_inquiry_at"] == (now + timedelta(minutes=4)).isoformat().replace(
        "+00:00", "Z"
    )
    assert "+86" not in answer.text
    assert "13812345678" not in answer.text

    groups = {(g["kind"], g["state"]): g for g in page["groups"]}
    assert set(groups) == {
        ("topup", "pending"),
        ("topup", "awaiting_payment"),
        ("withdrawal", "pending"),
        ("withdrawal", "processing"),
    }
    assert groups[("topup", "pending")]["total"] == {"amount": "123.45", "currency": "CNY"}
    assert groups[("withdrawal", "pending")]["count"] == 1
    assert page["suspense"] == [{"amount": "123.45", "currency": "CNY"}]
    assert page["unknown_grace_seconds"] == 1800
    assert page["next_cursor"] is None

    views = [event for event in await ops.audit() if event[0] == "funding.pending_viewed"]
    assert views == [
        (
            "funding.pending_viewed",
            operator.id,
            None,
            {
                "kind": None,
                "state": None,
                "shown": 4,
                "customers": sorted([ids["ana"], ids["bo"]]),
            },
        )
    ]


async def test_filters_by_kind_and_state_and_pages_with_a_cursor(ops: Ops) -> None:
    ids = await _world(ops)
    officer = await ops.staffer("risk_officer")

    async def listed(**params: object) -> list[str]:
        answer = await ops.get(officer, PATH, **params)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert await listed(kind="withdrawal") == [ids["old_withdrawal"], ids["young_withdrawal"]]
    assert await listed(state="pending") == [ids["card_topup"], ids["old_withdrawal"]]
    assert await listed(kind="topup", state="awaiting_payment") == [ids["psp_topup"]]
    assert await listed(kind="topup", state="processing") == []

    first = (await ops.get(officer, PATH, limit=3)).json()
    assert [item["id"] for item in first["items"]] == [
        ids["card_topup"],
        ids["old_withdrawal"],
        ids["psp_topup"],
    ]
    second = (await ops.get(officer, PATH, limit=3, cursor=first["next_cursor"])).json()
    assert [item["id"] for item in second["items"]] == [ids["young_withdrawal"]]
    assert second["next_cursor"] is None
    assert len(second["groups"]) == 4  # the counts cover everything, whatever the page

    before = await ops.audit_count()
    for params in ({"cursor": "!!"}, {"state": "succeeded"}, {"kind": "bill"}, {"limit": 0}):
        refused = await ops.get(officer, PATH, **params)
        assert refused.status_code == 422, params
        assert refused.json()["code"] == "validation_error"
    assert await ops.audit_count() == before  # a refused look is not recorded


async def test_operators_risk_officers_and_admins_read_it_and_nobody_else(ops: Ops) -> None:
    await _world(ops)
    for role in ("operator", "risk_officer", "admin"):
        allowed = await ops.get(await ops.staffer(role), PATH)
        assert allowed.status_code == 200, role
    refused_roles = [await ops.staffer(role) for role in ("support_agent", "teller")]
    supervisor = await ops.staffer("teller_supervisor")
    fresh = await ops.staffer("operator", password_changed=False)
    customer = await ops.user(phone="+8613700002222")
    before = await ops.audit_count()

    assert (await ops.get(None, PATH)).status_code == 401
    for staff in [*refused_roles, supervisor]:
        refused = await ops.get(staff, PATH)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), staff.role
        assert "****" not in refused.text
    refused = await ops.get(fresh, PATH)
    assert (refused.status_code, refused.json()["code"]) == (403, "password_change_required")
    # A customer's token is no staff token.
    as_customer = await ops.client.get(
        PATH, headers={"Authorization": f"Bearer {ops.token(customer)}"}
    )
    assert as_customer.status_code == 401
    assert await ops.audit_count() == before  # refused looks are not recorded
