"""All SQL of the risk rules' rule sets, decisions and rule hits (the features' reads are
in :mod:`ewallet.risk.rules.features.repository`).

Functions take the caller's connection and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import as_utc
from ewallet.kit.ids import new_id
from ewallet.models.risk import RuleAction, RuleMode, RuleSetState, Verdict
from ewallet.models.tables import (
    risk_decisions,
    risk_rule_hits,
    risk_rule_sets,
    risk_rules,
)
from ewallet.risk.rules.views import DecisionView, FiredRule, HitCount, RuleSetView, RuleView

# ------------------------------------------------------------------------ rule sets


def _rule_set(row: Any, rules: tuple[RuleView, ...] = ()) -> RuleSetView:
    return RuleSetView(
        version=int(row.version),
        state=RuleSetState(row.state),
        note=row.note,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        activated_by=row.activated_by,
        activated_at=as_utc(row.activated_at) if row.activated_at else None,
        rules=rules,
    )


def _rule(row: Any) -> RuleView:
    return RuleView(
        name=row.name,
        description=row.description,
        events=tuple(row.events),
        condition=row.condition,
        action=RuleAction(row.action),
        mode=RuleMode(row.mode),
        freeze_account=bool(row.freeze_account),
        position=int(row.position),
    )


async def active_version(conn: AsyncConnection) -> int | None:
    statement = select(risk_rule_sets.c.version).where(
        risk_rule_sets.c.state == RuleSetState.ACTIVE
    )
    version = (await conn.execute(statement)).scalar()
    return None if version is None else int(version)


async def any_rule_set(conn: AsyncConnection) -> bool:
    found = await conn.execute(select(risk_rule_sets.c.version).limit(1))
    return found.first() is not None


async def seed_rule_set(
    conn: AsyncConnection, *, rules: Sequence[RuleView], note: str, now: datetime
) -> None:
    """Version 1, active, with ``rules``; nothing if version 1 exists (a concurrent seed)."""
    dialect_insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    await conn.execute(
        dialect_insert(risk_rule_sets)
        .values(
            version=1,
            state=RuleSetState.ACTIVE.value,
            note=note,
            created_by="system",
            created_at=now,
            activated_by="system",
            activated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["version"])
    )
    for rule in rules:
        await conn.execute(
            dialect_insert(risk_rules)
            .values(_rule_values(1, rule))
            .on_conflict_do_nothing(index_elements=["rule_set_version", "name"])
        )


def _rule_values(version: int, rule: RuleView) -> dict[str, Any]:
    return {
        "rule_set_version": version,
        "name": rule.name,
        "description": rule.description,
        "events": list(rule.events),
        "condition": rule.condition,
        "action": rule.action.value,
        "mode": rule.mode.value,
        "freeze_account": rule.freeze_account,
        "position": rule.position,
    }


async def rules_of(conn: AsyncConnection, version: int) -> tuple[RuleView, ...]:
    statement = (
        select(risk_rules)
        .where(risk_rules.c.rule_set_version == version)
        .order_by(risk_rules.c.position, risk_rules.c.name)
    )
    return tuple(_rule(row) for row in await conn.execute(statement))


async def list_rule_sets(conn: AsyncConnection) -> list[RuleSetView]:
    statement = select(risk_rule_sets).order_by(risk_rule_sets.c.version.desc())
    return [_rule_set(row) for row in await conn.execute(statement)]


async def get_rule_set(
    conn: AsyncConnection, version: int, *, for_update: bool = False
) -> RuleSetView | None:
    statement = select(risk_rule_sets).where(risk_rule_sets.c.version == version)
    if for_update:
        statement = statement.with_for_update()
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return _rule_set(row, await rules_of(conn, version))


async def next_version(conn: AsyncConnection) -> int:
    highest = (await conn.execute(select(func.max(risk_rule_sets.c.version)))).scalar()
    return int(highest or 0) + 1


async def insert_rule_set(
    conn: AsyncConnection,
    *,
    version: int,
    note: str,
    created_by: str,
    now: datetime,
    rules: Iterable[RuleView],
) -> None:
    await conn.execute(
        insert(risk_rule_sets).values(
            version=version,
            state=RuleSetState.DRAFT.value,
            note=note,
            created_by=created_by,
            created_at=now,
        )
    )
    values = [_rule_values(version, rule) for rule in rules]
    if values:
        await conn.execute(insert(risk_rules), values)


async def save_rule(conn: AsyncConnection, version: int, rule: RuleView) -> None:
    """Insert or replace the rule of that name in the set."""
    await delete_rule(conn, version, rule.name)
    await conn.execute(insert(risk_rules).values(_rule_values(version, rule)))


async def delete_rule(conn: AsyncConnection, version: int, name: str) -> bool:
    result = await conn.execute(
        delete(risk_rules).where(
            risk_rules.c.rule_set_version == version, risk_rules.c.name == name
        )
    )
    return bool(result.rowcount)


async def activate(conn: AsyncConnection, *, version: int, by: str, now: datetime) -> int | None:
    """Retire the active set (its version, returned) and make ``version`` active."""
    previous = await active_version(conn)
    if previous is not None:
        await conn.execute(
            update(risk_rule_sets)
            .where(risk_rule_sets.c.version == previous)
            .values(state=RuleSetState.RETIRED.value)
        )
    await conn.execute(
        update(risk_rule_sets)
        .where(risk_rule_sets.c.version == version)
        .values(state=RuleSetState.ACTIVE.value, activated_by=by, activated_at=now)
    )
    return previous


# ------------------------------------------------------------------ decisions


_INSERT_DECISION: Final = insert(risk_decisions)  # built once: the spend path runs it
_INSERT_HITS: Final = insert(risk_rule_hits)


async def insert_decision(
    conn: AsyncConnection,
    *,
    user_id: str,
    event: str,
    reference: str,
    amount: int | None,
    currency: str | None,
    verdict: Verdict,
    rule_set_version: int | None,
    features: dict[str, Any],
    fired: Sequence[FiredRule],
    error: str | None,
    day: date,
    now: datetime,
) -> str:
    """The decision and one hit row per fired rule (not the failed ones); its id."""
    decision_id = new_id("rd")
    await conn.execute(
        _INSERT_DECISION,
        {
            "id": decision_id,
            "user_id": user_id,
            "event": event,
            "reference": reference,
            "amount": amount,
            "currency": currency,
            "verdict": verdict.value,
            "rule_set_version": rule_set_version,
            "features": features,
            "fired": [rule.as_json() for rule in fired],
            "error": error,
            "created_at": now,
        },
    )
    hits = [
        {
            "decision_id": decision_id,
            "rule_name": rule.name,
            "rule_set_version": rule_set_version or 0,
            "mode": rule.mode.value,
            "action": rule.action.value,
            "day": day,
        }
        for rule in fired
        if rule.error is None
    ]
    if hits:
        await conn.execute(_INSERT_HITS, hits)
    return decision_id


def _decision(row: Any) -> DecisionView:
    return DecisionView(
        id=row.id,
        user_id=row.user_id,
        event=row.event,
        reference=row.reference,
        amount=None if row.amount is None else int(row.amount),
        currency=row.currency,
        verdict=Verdict(row.verdict),
        rule_set_version=row.rule_set_version,
        features=dict(row.features or {}),
        fired=tuple(
            FiredRule(
                name=item["name"],
                action=RuleAction(item["action"]),
                mode=RuleMode(item["mode"]),
                condition=item["condition"],
                values=dict(item.get("values") or {}),
                error=item.get("error"),
            )
            for item in row.fired or []
        ),
        error=row.error,
        created_at=as_utc(row.created_at),
    )


async def list_decisions(
    conn: AsyncConnection,
    *,
    user_id: str | None,
    verdict: Verdict | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[DecisionView]:
    """Newest first; ``after`` the position of the previous page's last row."""
    statement = select(risk_decisions)
    if user_id is not None:
        statement = statement.where(risk_decisions.c.user_id == user_id)
    if verdict is not None:
        statement = statement.where(risk_decisions.c.verdict == verdict.value)
    if after is not None:
        at, last_id = after
        statement = statement.where(
            (risk_decisions.c.created_at < at)
            | and_(risk_decisions.c.created_at == at, risk_decisions.c.id < last_id)
        )
    statement = statement.order_by(
        risk_decisions.c.created_at.desc(), risk_decisions.c.id.desc()
    ).limit(limit)
    return [_decision(row) for row in await conn.execute(statement)]


async def get_decision(conn: AsyncConnection, decision_id: str) -> DecisionView | None:
    row = (
        await conn.execute(select(risk_decisions).where(risk_decisions.c.id == decision_id))
    ).first()
    return None if row is None else _decision(row)


async def hit_counts(conn: AsyncConnection, *, first: date, last: date) -> list[HitCount]:
    hits = risk_rule_hits.c
    statement = (
        select(
            hits.day,
            hits.rule_name,
            hits.rule_set_version,
            hits.mode,
            hits.action,
            func.count().label("hits"),
        )
        .where(hits.day >= first, hits.day <= last)
        .group_by(hits.day, hits.rule_name, hits.rule_set_version, hits.mode, hits.action)
        .order_by(hits.day, hits.rule_name, hits.rule_set_version, hits.mode)
    )
    return [
        HitCount(
            day=row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day)),
            rule_name=row.rule_name,
            rule_set_version=int(row.rule_set_version),
            mode=RuleMode(row.mode),
            action=RuleAction(row.action),
            hits=int(row.hits),
        )
        for row in await conn.execute(statement)
    ]
