"""What a decision does to a real transfer over HTTP: a block moves nothing and is stored;
a freezing block freezes and tells the owner; a shadow rule never acts but is counted; a
rule that fails fails closed to review and raises an alert; an activation reaches another
app instance within the refresh bound."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.ledger import transfer as ledger_transfer
from ewallet.models.risk import RuleAction, RuleMode
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.models.tables import aml_report_candidates, risk_alerts, users
from ewallet.risk.spending import SpendingPolicy
from ewallet.spend.service import Held, SpendRequest, spend_from_wallet
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.transfers import (
    balance,
    custom_harness,
    fund,
    money_snapshot,
    set_tier,
    transfer,
)

from .helpers import decisions, hits, install, rule

ALICE, BOB = "+8613800000001", "+8613900000002"


async def pair(harness: Harness) -> tuple[TestUser, TestUser]:
    alice = await harness.user(phone=ALICE, pin=PIN)
    bob = await harness.user(phone=BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    await set_tier(harness, bob, 2, name="张*伟")
    await fund(harness, alice, "300.00")
    return alice, bob


async def test_a_block_moves_nothing_and_is_stored(harness: Harness) -> None:
    alice, bob = await pair(harness)
    await install(harness, rule("big", "amount >= 100"))
    before = await money_snapshot(harness, alice, bob)
    response = await transfer(harness, alice, BOB, "100.00")
    body = assert_problem(response, 403, "risk_declined")
    assert "big" not in response.text
    assert "amount" not in body.get("detail", "")
    assert await money_snapshot(harness, alice, bob) == before
    [stored] = await decisions(harness)
    assert (stored.verdict, stored.event, stored.amount) == ("block", "transfer", 100_00)
    assert stored.fired[0]["values"] == {"amount": "100.00"}
    assert (await harness.row(alice)).status == "active"  # this rule does not freeze
    allowed = await transfer(harness, alice, BOB, "99.99")
    assert allowed.status_code == 201, allowed.text
    assert await balance(harness, bob) == 99_99


async def test_a_freezing_rule_freezes_the_account_and_tells_the_owner(harness: Harness) -> None:
    alice, _bob = await pair(harness)
    await install(harness, rule("stop", "amount >= 1", freeze_account=True))
    response = await transfer(harness, alice, BOB, "5.00")
    assert_problem(response, 403, "risk_declined")
    row = await harness.row(alice)
    assert (row.status, row.frozen_by) == ("frozen", "risk")
    assert "account_frozen" in await harness.kinds(alice)
    assert await balance(harness, alice) == 300_00
    assert [row.verdict for row in await decisions(harness)] == ["block"]


async def test_a_shadow_rule_never_acts_but_is_counted(harness: Harness) -> None:
    alice, _bob = await pair(harness)
    await install(
        harness,
        rule("watch", "amount >= 1", RuleAction.BLOCK, mode=RuleMode.SHADOW, freeze_account=True),
    )
    response = await transfer(harness, alice, BOB, "10.00")
    assert response.status_code == 201, response.text
    assert (await harness.row(alice)).status == "active"
    [stored] = await decisions(harness)
    assert stored.verdict == "allow"
    [hit] = await hits(harness)
    assert (hit.rule_name, hit.mode, hit.action) == ("watch", "shadow", "block")


async def test_a_failing_rule_fails_closed_to_review_and_raises_an_alert(
    harness: Harness,
) -> None:
    alice, bob = await pair(harness)
    await install(
        harness, rule("broken", "amount / user_channel_count_1h > 1", RuleAction.CHALLENGE)
    )
    response = await transfer(harness, alice, BOB, "10.00")
    assert response.status_code == 202, response.text  # held for a staff decision
    assert response.json()["code"] == "under_review"
    assert (await balance(harness, alice), await balance(harness, bob)) == (300_00, 0)
    [stored] = await decisions(harness)
    assert stored.verdict == "review"
    assert stored.error
    assert "broken" in stored.error
    async with harness.engine.connect() as conn:
        alerts = list(await conn.execute(select(risk_alerts)))
    assert [(alert.kind, alert.subject_id) for alert in alerts] == [("rule_error", stored.id)]
    assert await hits(harness) == []


async def test_an_activation_reaches_another_app_within_the_refresh_bound(
    harness: Harness, engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    alice, _bob = await pair(harness)
    async with custom_harness(engine, settings, clock, risk_rules_refresh_seconds=2.0) as other:
        first = await transfer(other, alice, BOB, "1.00", key="o-1")
        assert first.status_code == 201, first.text  # the other app has read version 1
        version = await install(harness, rule("none", "amount >= 1"))
        assert version == 2
        blocked_here = await transfer(harness, alice, BOB, "1.00", key="h-1")
        assert_problem(blocked_here, 403, "risk_declined")  # at once where it was activated
        clock.advance(timedelta(seconds=1))
        still = await transfer(other, alice, BOB, "1.00", key="o-2")
        assert still.status_code == 201, still.text  # cached for up to 2 s
        clock.advance(timedelta(seconds=1))
        refreshed = await transfer(other, alice, BOB, "1.00", key="o-3")
        assert_problem(refreshed, 403, "risk_declined")
    async with harness.engine.connect() as conn:
        status = await conn.scalar(select(users.c.status).where(users.c.id == alice.id))
    assert status == "active"


async def test_a_live_report_rule_records_a_candidate_and_lets_the_money_move(
    harness: Harness,
) -> None:
    alice, _bob = await pair(harness)
    await install(harness, rule("watch-out", "amount >= 50", RuleAction.REPORT))
    small = await transfer(harness, alice, BOB, "49.99")
    large = await transfer(harness, alice, BOB, "50.00")
    assert small.status_code == large.status_code == 201, large.text
    async with harness.engine.connect() as conn:
        candidates = list(await conn.execute(select(aml_report_candidates)))
    [candidate] = candidates
    assert (candidate.rule_name, candidate.subject_id, candidate.amount) == (
        "watch-out",
        alice.id,
        50_00,
    )
    assert [row.verdict for row in await decisions(harness)] == ["allow", "allow"]


async def test_a_feature_that_keeps_held_movements_gets_a_hold_and_the_stored_review(
    harness: Harness,
) -> None:
    alice, _bob = await pair(harness)
    await install(harness, rule("look", "amount >= 10", RuleAction.REVIEW, events=("payment",)))
    ledger = Ledger(harness.engine, clock=harness.clock)
    wallet = await chart.open_account(ledger, chart.wallet(alice.id))
    merchant = await chart.open_account(ledger, chart.merchant("m-risk"))
    request = SpendRequest(
        user_id=alice.id,
        amount=Money.parse("10.00"),
        channel=SpendChannel.PAYMENT,
        auth=AuthStrength.PIN,
        reference="risk-test:held",
        counterparty="m-risk",
    )
    command = ledger_transfer(
        key=request.reference,
        debit_account_id=wallet.id,
        credit_account_id=merchant.id,
        amount=request.amount,
        kind=TransactionKind.PAYMENT,
    )
    policy = SpendingPolicy.from_settings(harness.services.settings)

    async def work(uow: UnitOfWork) -> object:
        return await spend_from_wallet(
            uow, request, command, clock=harness.clock, policy=policy, keeps_held=True
        )

    result = await run_unit(harness.services.engine, work)
    assert isinstance(result, Held)
    assert result.decision.reasons == ("look",)
    [stored] = await decisions(harness)
    assert (stored.id, stored.verdict) == (result.decision.decision_id, "review")
    assert await balance(harness, alice) == 300_00  # held, not moved
