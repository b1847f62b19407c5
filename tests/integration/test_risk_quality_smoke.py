"""bench/risk_quality.py on a tiny month: the generator labels its fraud, the replay decides
every movement through the real rules and writes what later features read, the figures have
their shape. ``make bench-risk-quality`` is the real run (docs/performance.md, "Quality")."""

from __future__ import annotations

from collections import Counter

from bench.risk_quality import Replay, evaluate, rules_for, targets
from bench.risk_traffic import PATTERNS, SPENDS, generate
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.models.risk import RuleMode
from ewallet.models.tables import aml_report_candidates, audit_events, risk_decisions, topups
from ewallet.risk.rules import engine as risk_engine


def test_the_generator_is_seeded_and_labels_one_harm_per_instance() -> None:
    traffic = generate(seed=7, users=50, movements=350)
    again = generate(seed=7, users=50, movements=350)
    assert [(e.at, e.kind, e.amount) for e in traffic.events] == [
        (e.at, e.kind, e.amount) for e in again.events
    ]
    assert [e.at for e in traffic.events] == sorted(e.at for e in traffic.events)
    assert set(traffic.instances) == set(PATTERNS)
    assert all(count >= 2 for count in traffic.instances.values())
    harms = Counter(
        (e.label.pattern, e.label.instance) for e in traffic.events if e.label and e.label.harm
    )
    members = {(e.label.pattern, e.label.instance) for e in traffic.events if e.label}
    assert set(harms) == members
    assert set(harms.values()) == {1}
    takeover = [e for e in traffic.events if e.label and e.label.pattern == "account_takeover"]
    assert takeover[0].kind == "password_reset"
    assert takeover[1].kind == "new_device"


def test_rules_for_switches_card_testing_and_structuring_live() -> None:
    rules = {rule.name: rule for rule in rules_for("default")}
    assert rules["card-testing"].mode is RuleMode.LIVE
    assert rules["structuring"].mode is RuleMode.LIVE
    first = {rule.name: rule for rule in rules_for("first")}
    assert set(first) == set(rules)


async def test_a_tiny_month_replays_through_the_rules(engine: AsyncEngine) -> None:
    traffic = generate(seed=7, users=50, movements=350)
    replay = Replay(engine, traffic)
    try:
        await replay.seed(rules_for("default"))
        results = await replay.run()
    finally:
        risk_engine.forget(engine)
    moving = [
        e for e in traffic.events if e.kind in SPENDS or e.kind.endswith(("topup", "deposit"))
    ]
    assert len(results) == len(moving)
    figures = evaluate(traffic, results)
    assert set(figures["patterns"]) == set(PATTERNS)
    for pattern in PATTERNS:
        entry = figures["patterns"][pattern]
        assert entry["instances"] == traffic.instances[pattern]
        assert 0 <= entry["detected"] <= entry["instances"] <= entry["movements"]
    # Every structuring series crosses the near-threshold count within a week: reported.
    structuring = figures["patterns"]["structuring"]
    assert structuring["detected"] == structuring["instances"]
    assert structuring["caught_by"] == {"structuring": structuring["instances"]}
    legit = figures["legitimate"]
    assert legit["movements"] == sum(1 for r in results if r.event.label is None)
    assert set(targets(figures)) == {f"recall_{p}_ge_0.9" for p in PATTERNS} | {
        "legitimate_inconvenienced_le_0.01"
    }
    assert figures["decision_ms"]["decisions"] == len(results)
    async with engine.connect() as conn:
        decisions = await conn.scalar(select(func.count()).select_from(risk_decisions))
        candidates = await conn.scalar(
            select(func.count())
            .select_from(aml_report_candidates)
            .where(aml_report_candidates.c.rule_name == "structuring")
        )
        resets = await conn.scalar(
            select(func.count())
            .select_from(audit_events)
            .where(audit_events.c.action == "login_password.reset")
        )
        failed = await conn.scalar(
            select(func.count()).select_from(topups).where(topups.c.status == "failed")
        )
    assert decisions == len(results)  # a refused decision is stored too
    assert candidates is not None
    assert candidates >= structuring["instances"]
    assert resets == sum(1 for e in traffic.events if e.kind == "password_reset")
    assert failed is not None
    assert failed > 0
