"""All SQL of the risk rules: rule sets, the features' reads, decisions and rule hits.

Functions take the caller's connection and never commit. The feature reads run inside the
spend's unit, under the spender's row lock, so one user's velocity is read after their
previous spend committed (two processes cannot both miss each other's spend).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Select, and_, bindparam, case, delete, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import as_utc
from ewallet.kit.ids import new_id
from ewallet.models.funding import CardStatus, TopupMethod, TopupStatus
from ewallet.models.risk import RuleAction, RuleMode, RuleSetState, Verdict
from ewallet.models.tables import (
    audit_events,
    cards,
    counter_deposits,
    devices,
    ledger_accounts,
    ledger_postings,
    risk_decisions,
    risk_rule_hits,
    risk_rule_sets,
    risk_rules,
    spend_records,
    topups,
)
from ewallet.risk.rules.views import DecisionView, FiredRule, HitCount, RuleSetView, RuleView

PASSWORD_RESET = "login_password.reset"  # noqa: S105 (an audit action)
PIN_RESET = "payment_password.reset"
INFLOW_POSTINGS = 200  # the wallet's latest postings read for inflow_sum_30m
USUAL_SPENDS = 500  # the latest spends read for usual_amount_p90_30d


def yuan(minor: Any) -> Decimal:
    return Decimal(int(minor or 0)) / 100


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


# ------------------------------------------------------------------ feature reads


def _summed(value: Any, condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


class FeatureRead:
    """The features of one movement as ONE statement: one-row aggregates (the spender's and
    the payee's spends) joined side by side, and scalar subqueries for the rest. Each part
    is added only when a rule reads one of its features. The statement has bound
    parameters only (``user_id``, ``reference``, ``since_1h`` ...: :func:`feature_params`),
    so it is built once per set of features and reused: building a statement costs more
    than running it."""

    def __init__(self) -> None:
        self._rows: list[Any] = []
        self._scalars: list[Any] = []

    def row(self, statement: Select[Any]) -> None:
        self._rows.append(statement.subquery())

    def scalar(self, name: str, statement: Select[Any]) -> None:
        self._scalars.append(statement.scalar_subquery().label(name))

    def statement(self) -> Select[Any] | None:
        if not self._rows and not self._scalars:
            return None
        columns = [column for row in self._rows for column in row.c]
        statement = select(*columns, *self._scalars)
        if self._rows:
            joined = self._rows[0]
            for row in self._rows[1:]:
                joined = joined.join(row, true())
            statement = statement.select_from(joined)
        return statement


WINDOWS: Final = {
    "1m": timedelta(minutes=1),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
VELOCITY_WINDOWS: Final = ("1m", "1h", "24h", "30d")


def feature_params(
    *,
    user_id: str,
    reference: str,
    channel: str,
    counterparty: str | None,
    device_id: str | None,
    wallet_code: str,
    now: datetime,
    near_threshold: tuple[int, int],
) -> dict[str, Any]:
    """The values of a :class:`FeatureRead` statement's parameters."""
    return {
        "user_id": user_id,
        "reference": reference,
        "channel": channel,
        "counterparty": counterparty,
        "device_id": device_id,
        "wallet_code": wallet_code,
        "low": near_threshold[0],
        "high": near_threshold[1],
        **{f"since_{suffix}": now - span for suffix, span in WINDOWS.items()},
    }


async def read_features(
    conn: AsyncConnection, statement: Select[Any], params: dict[str, Any]
) -> dict[str, Any]:
    return dict((await conn.execute(statement, params)).one()._mapping)


def user_spends(read: FeatureRead, *, needed: Collection[str], with_counterparty: bool) -> None:
    """The spender's spend velocity (only the ``needed`` columns): counts and minor-unit
    sums per window, every channel and this one, as ``user_*``; ``last_spend_at``;
    ``paid_before`` (the counterparty was paid before)."""
    spends = spend_records.c
    columns: list[Any] = []
    used: list[str] = []  # the windows read; the scan starts at the widest
    for suffix in VELOCITY_WINDOWS:
        wanted = [
            (kind, scope)
            for kind in ("count", "sum")
            for scope in ("user", "user_channel")
            if f"{scope}_{kind}_{suffix}" in needed
        ]
        if not wanted:
            continue
        used.append(suffix)
        in_window = spends.created_at >= bindparam(f"since_{suffix}")
        on_channel = and_(in_window, spends.channel == bindparam("channel"))
        for kind, scope in wanted:
            value = 1 if kind == "count" else spends.amount
            condition = in_window if scope == "user" else on_channel
            columns.append(_summed(value, condition).label(f"{scope}_{kind}_{suffix}"))
    if "user_out_sum_30m" in needed:
        columns.append(
            _summed(spends.amount, spends.created_at >= bindparam("since_30m")).label(
                "user_out_sum_30m"
            )
        )
        used.append("30m")
    if columns:
        widest = max(used, key=WINDOWS.__getitem__)
        read.row(
            select(*columns).where(
                spends.user_id == bindparam("user_id"),
                # No upper bound: a spend committed by another process after this one's
                # clock was read precedes it in the spender's lock order and must count.
                spends.created_at >= bindparam(f"since_{widest}"),
                spends.reference != bindparam("reference"),
                spends.released_at.is_(None),
            )
        )
    if "days_since_last_spend" in needed:
        read.scalar(
            "last_spend_at",
            select(func.max(spends.created_at)).where(
                spends.user_id == bindparam("user_id"), spends.reference != bindparam("reference")
            ),
        )
    if "is_new_payee" in needed and with_counterparty:
        read.scalar(
            "paid_before",
            select(func.count()).select_from(
                select(spends.id)
                .where(
                    spends.user_id == bindparam("user_id"),
                    spends.counterparty == bindparam("counterparty"),
                    spends.reference != bindparam("reference"),
                )
                .limit(1)
                .subquery()
            ),
        )


def payee_spends(read: FeatureRead) -> None:
    """Spends to the counterparty from anyone in the last hour and day, as ``payee_*``."""
    spends = spend_records.c
    hour = spends.created_at >= bindparam("since_1h")
    read.row(
        select(
            _summed(1, hour).label("payee_count_1h"),
            _summed(spends.amount, hour).label("payee_sum_1h"),
            func.count().label("payee_count_24h"),
            func.coalesce(func.sum(spends.amount), 0).label("payee_sum_24h"),
            func.count(spends.user_id.distinct()).label("payee_payers_24h"),
        ).where(
            spends.counterparty == bindparam("counterparty"),
            spends.created_at >= bindparam("since_24h"),
            spends.reference != bindparam("reference"),
            spends.released_at.is_(None),
        )
    )


def security_events(read: FeatureRead) -> None:
    """When the login password and the payment password were last reset (audit events), as
    ``password_reset_at`` and ``pin_reset_at``."""
    for name, action in (("password_reset_at", PASSWORD_RESET), ("pin_reset_at", PIN_RESET)):
        read.scalar(
            name,
            select(func.max(audit_events.c.occurred_at)).where(
                audit_events.c.subject_id == bindparam("user_id"), audit_events.c.action == action
            ),
        )


def parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def latest_card_bound(read: FeatureRead) -> None:
    """``card_bound_at``: when the latest card still bound was bound."""
    read.scalar(
        "card_bound_at",
        select(func.max(cards.c.verified_at)).where(
            cards.c.user_id == bindparam("user_id"), cards.c.status == CardStatus.ACTIVE
        ),
    )


def device_first_seen(read: FeatureRead) -> None:
    """``device_first_seen``: when the user first used the device (null: not theirs)."""
    read.scalar(
        "device_first_seen",
        select(devices.c.first_seen_at).where(
            devices.c.id == bindparam("device_id"), devices.c.user_id == bindparam("user_id")
        ),
    )


def inflow(read: FeatureRead) -> None:
    """``inflow_minor``: minor units credited to the wallet in the last 30 minutes, over its
    latest postings (the ``(account_id, id)`` index walked backwards, at most
    :data:`INFLOW_POSTINGS` rows)."""
    account = (
        select(ledger_accounts.c.id)
        .where(ledger_accounts.c.code == bindparam("wallet_code"))
        .scalar_subquery()
    )
    latest = (
        select(ledger_postings.c.amount, ledger_postings.c.created_at)
        .where(ledger_postings.c.account_id == account)
        .order_by(ledger_postings.c.id.desc())
        .limit(INFLOW_POSTINGS)
        .subquery()
    )
    read.scalar(
        "inflow_minor",
        select(func.coalesce(func.sum(-latest.c.amount), 0)).where(
            latest.c.amount < 0, latest.c.created_at >= bindparam("since_30m")
        ),
    )


def failed_card_topups(read: FeatureRead) -> None:
    read.scalar(
        "failed_card_topups_1h",
        select(func.count()).where(
            topups.c.user_id == bindparam("user_id"),
            topups.c.method == TopupMethod.CARD,
            topups.c.status == TopupStatus.FAILED,
            topups.c.created_at >= bindparam("since_1h"),
        ),
    )


def counter_deposits_near_threshold(read: FeatureRead) -> None:
    """``counter_deposits_near_threshold_7d``: the user's counter deposits in 7 days of at
    least ``low`` and below ``high``."""
    read.scalar(
        "counter_deposits_near_threshold_7d",
        select(func.count()).where(
            counter_deposits.c.user_id == bindparam("user_id"),
            counter_deposits.c.created_at >= bindparam("since_7d"),
            counter_deposits.c.amount >= bindparam("low"),
            counter_deposits.c.amount < bindparam("high"),
        ),
    )


async def recent_amounts(
    conn: AsyncConnection, *, user_id: str, reference: str, since: datetime
) -> list[int]:
    """The minor amounts of the spender's latest spends since ``since`` (at most 500)."""
    statement = (
        select(spend_records.c.amount)
        .where(
            spend_records.c.user_id == user_id,
            spend_records.c.created_at >= since,
            spend_records.c.reference != reference,
            spend_records.c.released_at.is_(None),
        )
        .order_by(spend_records.c.created_at.desc())
        .limit(USUAL_SPENDS)
    )
    return [int(amount) for amount in (await conn.execute(statement)).scalars()]


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
