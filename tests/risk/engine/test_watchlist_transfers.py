"""The watch list on transfers: the payee's (and, if a rule asks, the payer's) verified real
name is screened inside the decision; the default ``watchlist-payee`` rule reviews a
transfer to a listed person; the hits are recorded with the decision and survive the
transfer's rollback; the decision keeps no name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.models.risk import RuleAction
from ewallet.models.spending import SpendChannel
from ewallet.models.tables import risk_alerts, risk_decisions, watchlist_hits
from ewallet.risk.watchlist import service
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem, make_id_number
from tests.fixtures.limits import fund, set_tier
from tests.fixtures.transfers import transfer
from tests.risk.watchlist.conftest import SAMPLE

from .helpers import admit, install, rule

LISTED = ("测试甲", make_id_number(born="19700101", sequence="051"))  # in sample.csv
UNLISTED = ("王小明", make_id_number(born="19880808", sequence="034"))


async def load_sample(harness: Harness) -> None:
    await service.load_list(
        harness.services,
        Actor("system", "cli"),
        list_name="sanctions",
        file_name="sample.csv",
        content=SAMPLE.read_bytes(),
        replace=False,
    )


async def verified(harness: Harness, phone: str, identity: tuple[str, str]) -> TestUser:
    user = await harness.user(phone=phone, pin=PIN)
    name, number = identity
    response = await harness.client.post(
        "/v1/me/identity",
        json={"real_name": name, "id_number": number},
        headers=harness.auth(user),
    )
    assert response.status_code == 200, response.text
    return user


async def payer(harness: Harness, phone: str = "+8613700000001") -> TestUser:
    user = await harness.user(phone=phone, pin=PIN)
    await set_tier(harness, user, 3)
    await fund(harness, user, "1000.00")
    return user


async def rows(harness: Harness, table: Any, *where: Any) -> list[Any]:
    async with harness.engine.connect() as conn:
        return list((await conn.execute(select(table).where(*where))).all())


async def test_a_transfer_to_a_listed_person_is_reviewed_and_the_hit_recorded(
    harness: Harness,
) -> None:
    await load_sample(harness)
    listed = await verified(harness, "+8613900000001", LISTED)
    other = await verified(harness, "+8613900000002", UNLISTED)
    sender = await payer(harness)
    response = await transfer(harness, sender, other.phone, "10.00")
    assert response.status_code == 201, response.text
    assert await rows(harness, watchlist_hits, watchlist_hits.c.context == "transfer") == []
    held = await transfer(harness, sender, listed.phone, "10.00")
    assert held.status_code == 202, held.text  # under review
    [decision] = await rows(harness, risk_decisions, risk_decisions.c.verdict == "review")
    assert decision.event == "transfer"
    assert decision.features["payee_on_watchlist"] is True
    assert [fired["name"] for fired in decision.fired] == ["watchlist-payee"]
    assert "测试" not in str(decision.features)  # the decision keeps no name
    [hit] = await rows(harness, watchlist_hits, watchlist_hits.c.context == "transfer")
    assert (hit.subject_type, hit.subject_id) == ("transfer", decision.reference)
    assert (hit.entry_name, hit.score, hit.state) == ("测试甲", 100, "open")
    assert hit.screened_name_masked == "测*甲"
    alerts = await rows(harness, risk_alerts, risk_alerts.c.kind == "watchlist_match")
    [alert] = [row for row in alerts if row.details["context"] == "transfer"]
    assert (alert.kind, alert.subject_type, alert.subject_id) == (
        "watchlist_match",
        "user",
        listed.id,
    )
    assert alert.details == {
        "context": "transfer",
        "party": "payee",
        "reference": decision.reference,
        "hit_ids": [hit.id],
        "lists": ["sanctions"],
        "best_score": 100,
    }


async def test_the_hit_survives_the_rollback_of_the_refused_spend(harness: Harness) -> None:
    await load_sample(harness)
    listed = await verified(harness, "+8613900000001", LISTED)
    sender = await payer(harness)
    # Through the seam with a feature that cannot keep a review waiting: its unit is rolled
    # back and the decision stored on its own, with the screening's hit.
    assert await admit(harness, sender.id, "10.00", counterparty=listed.id) == "under_review"
    [decision] = await rows(harness, risk_decisions)
    [hit] = await rows(harness, watchlist_hits, watchlist_hits.c.context == "transfer")
    assert hit.subject_id == decision.reference
    # A payee who never verified a real name has nothing to screen.
    unverified = await harness.user(phone="+8613900000003")
    assert await admit(harness, sender.id, "10.00", counterparty=unverified.id) == "allow"


async def test_a_rule_may_screen_the_payer_too(harness: Harness) -> None:
    await load_sample(harness)
    sender = await verified(harness, "+8613700000009", LISTED)
    await set_tier(harness, sender, 3)
    await fund(harness, sender, "1000.00")
    other = await verified(harness, "+8613900000002", UNLISTED)
    await install(
        harness, rule("listed-payer", "payer_on_watchlist", RuleAction.BLOCK, events=("transfer",))
    )
    assert_problem(await transfer(harness, sender, other.phone, "10.00"), 403, "risk_declined")
    [decision] = await rows(harness, risk_decisions)
    assert decision.features == {"payer_on_watchlist": True}
    [hit] = await rows(harness, watchlist_hits, watchlist_hits.c.context == "transfer")
    assert hit.subject_id == decision.reference
    # On any other event the watch-list features are null.
    await install(
        harness,
        rule("screened", "payer_on_watchlist is not null", RuleAction.BLOCK, events=("payment",)),
    )
    payment = await admit(
        harness, sender.id, "10.00", channel=SpendChannel.PAYMENT, counterparty="m-shop"
    )
    assert payment == "allow"
