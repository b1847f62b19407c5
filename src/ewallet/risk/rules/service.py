"""Editing the risk rules (staff): rule sets as drafts, validated, activated; and reading the
decisions, their explanations and the rules' daily hit counts.

A rule set is a version: a draft is a copy of the active set (or of a given version) that
risk officers edit rule by rule; activating it compiles every condition again, retires the
set that was active and takes effect in this process at once and in every other within
``EWALLET_RISK_RULES_REFRESH_SECONDS`` (:mod:`ewallet.risk.rules.engine`). An active or
retired set never changes: editing one answers ``conflict``. Every change is audited
(``risk.rule_set_created``, ``risk.rule_saved``, ``risk.rule_deleted``,
``risk.rule_set_activated``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor, record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, created_position, newest_first_page
from ewallet.models.risk import RuleAction, RuleSetState, Verdict
from ewallet.risk.rules import engine, repository
from ewallet.risk.rules.catalogue import EVENTS, FEATURES, SCHEMA, Feature
from ewallet.risk.rules.errors import (
    DecisionNotFoundError,
    RuleConditionError,
    RuleNotFoundError,
    RuleSetNotDraftError,
    RuleSetNotFoundError,
)
from ewallet.risk.rules.language import RuleSyntaxError, compile_condition
from ewallet.risk.rules.views import DecisionView, HitCount, Problem, RuleSetView, RuleView
from ewallet.services import Services

RULE_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_TEXT: Final = 2000
MAX_NOTE: Final = 500
MAX_HIT_DAYS: Final = 366


def features() -> tuple[Feature, ...]:
    """The catalogue, for the rule editor."""
    return FEATURES


def events() -> tuple[str, ...]:
    """What a rule's ``events`` may name."""
    return EVENTS


def check_rule(rule: RuleView) -> None:
    """Refuse a malformed rule (``validation_error``; a condition that does not compile
    carries ``rule`` and ``position``)."""
    if not RULE_NAME.fullmatch(rule.name):
        raise ValidationFailedError(
            "a rule's name is 1-64 lower-case letters, digits and hyphens", field="name"
        )
    if not rule.events or len(set(rule.events)) != len(rule.events):
        raise ValidationFailedError("name the events the rule applies to, once each")
    unknown = sorted(set(rule.events) - set(EVENTS))
    if unknown:
        raise ValidationFailedError(f"unknown events: {', '.join(unknown)}", field="events")
    if rule.freeze_account and rule.action is not RuleAction.BLOCK:
        raise ValidationFailedError("only a block may freeze the account")
    if not rule.description.strip() or len(rule.description) > MAX_TEXT:
        raise ValidationFailedError(f"a rule needs a description (up to {MAX_TEXT} characters)")
    if len(rule.condition) > MAX_TEXT:
        raise ValidationFailedError(f"a condition has at most {MAX_TEXT} characters")
    problem = _compile(rule)
    if problem is not None:
        raise RuleConditionError(problem.message, rule=problem.rule, position=problem.position)


def _compile(rule: RuleView) -> Problem | None:
    try:
        compile_condition(rule.condition, SCHEMA)
    except RuleSyntaxError as error:
        return Problem(rule.name, error.message, error.position)
    return None


async def _ensure(uow: UnitOfWork, services: Services) -> None:
    await engine.ensure_rule_set(await uow.connection(), now=services.clock.now())


async def list_rule_sets(services: Services) -> list[RuleSetView]:
    """Every version, newest first (a fresh database gets version 1 first)."""

    async def work(uow: UnitOfWork) -> list[RuleSetView]:
        await _ensure(uow, services)
        return await repository.list_rule_sets(await uow.connection())

    return await run_unit(services.engine, work)


async def get_rule_set(services: Services, *, version: int) -> RuleSetView:
    """One version with its rules; ``not_found``."""

    async def work(uow: UnitOfWork) -> RuleSetView | None:
        await _ensure(uow, services)
        return await repository.get_rule_set(await uow.connection(), version)

    found = await run_unit(services.engine, work)
    if found is None:
        raise RuleSetNotFoundError("no rule set of that version")
    return found


async def create_draft(
    services: Services, actor: Actor, *, from_version: int | None, note: str
) -> RuleSetView:
    """A new draft, a copy of ``from_version`` (the active set when None). Refusals:
    ``validation_error`` (a note over 500 characters); ``not_found`` (no such version)."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailedError(f"a note has at most {MAX_NOTE} characters", field="note")
    clock = services.clock

    async def work(uow: UnitOfWork) -> RuleSetView:
        conn = await uow.connection()
        active = await engine.ensure_rule_set(conn, now=clock.now())
        source_version = from_version if from_version is not None else active
        rules: tuple[RuleView, ...] = ()
        if source_version is not None:
            source = await repository.get_rule_set(conn, source_version)
            if source is None:
                raise RuleSetNotFoundError("no rule set of that version")
            rules = source.rules
        version = await repository.next_version(conn)
        await repository.insert_rule_set(
            conn,
            version=version,
            note=note,
            created_by=_by(actor),
            now=clock.now(),
            rules=rules,
        )
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="risk.rule_set_created",
            subject_type="risk_rule_set",
            subject_id=str(version),
            details={"from_version": source_version, "note": note},
        )
        created = await repository.get_rule_set(conn, version)
        assert created is not None
        return created

    try:
        return await run_unit(services.engine, work)
    except IntegrityError:
        raise ConflictError("another draft was created at the same moment; try again") from None


async def _draft(uow: UnitOfWork, version: int) -> RuleSetView:
    found = await repository.get_rule_set(await uow.connection(), version, for_update=True)
    if found is None:
        raise RuleSetNotFoundError("no rule set of that version")
    if found.state is not RuleSetState.DRAFT:
        raise RuleSetNotDraftError(
            f"rule set {version} is {found.state.value}; edit a draft", state=found.state.value
        )
    return found


async def save_rule(services: Services, actor: Actor, *, version: int, rule: RuleView) -> RuleView:
    """Add or replace the rule of that name in draft ``version``. Refusals, in order:
    ``validation_error`` (:func:`check_rule`), ``not_found``, ``conflict`` (not a draft)."""
    check_rule(rule)
    clock = services.clock

    async def work(uow: UnitOfWork) -> RuleView:
        await _draft(uow, version)
        conn = await uow.connection()
        await repository.save_rule(conn, version, rule)
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="risk.rule_saved",
            subject_type="risk_rule_set",
            subject_id=str(version),
            details={
                "rule": rule.name,
                "condition": rule.condition,
                "action": rule.action.value,
                "mode": rule.mode.value,
                "events": list(rule.events),
                "freeze_account": rule.freeze_account,
            },
        )
        return rule

    return await run_unit(services.engine, work)


async def delete_rule(services: Services, actor: Actor, *, version: int, name: str) -> None:
    """Remove a rule from draft ``version``: ``not_found`` (set or rule), ``conflict``."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> None:
        await _draft(uow, version)
        conn = await uow.connection()
        if not await repository.delete_rule(conn, version, name):
            raise RuleNotFoundError("the rule set has no rule of that name")
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="risk.rule_deleted",
            subject_type="risk_rule_set",
            subject_id=str(version),
            details={"rule": name},
        )

    await run_unit(services.engine, work)


async def validate_rule_set(services: Services, *, version: int) -> list[Problem]:
    """Compile every condition of ``version``; the problems (none: it may be activated)."""
    found = await get_rule_set(services, version=version)
    return [problem for rule in found.rules if (problem := _compile(rule)) is not None]


async def activate_rule_set(services: Services, actor: Actor, *, version: int) -> RuleSetView:
    """Make draft ``version`` the active set; the previous one retires (audited
    ``risk.rule_set_activated``). Refusals: ``not_found``; ``conflict`` (not a draft, or
    another activation won the race); ``validation_error`` (a condition that does not
    compile: ``rule`` and ``position`` of the first)."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> RuleSetView:
        draft = await _draft(uow, version)
        for rule in draft.rules:
            problem = _compile(rule)
            if problem is not None:
                raise RuleConditionError(
                    problem.message, rule=problem.rule, position=problem.position
                )
        conn = await uow.connection()
        previous = await repository.activate(conn, version=version, by=_by(actor), now=clock.now())
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="risk.rule_set_activated",
            subject_type="risk_rule_set",
            subject_id=str(version),
            details={"retired": previous, "rules": [rule.name for rule in draft.rules]},
        )
        activated = await repository.get_rule_set(conn, version)
        assert activated is not None
        return activated

    try:
        activated = await run_unit(services.engine, work)
    except IntegrityError:
        raise ConflictError("another rule set was activated at the same moment") from None
    engine.forget(services.engine)
    return activated


def _by(actor: Actor) -> str:
    return f"{actor.type}:{actor.id}" if actor.id else str(actor.type)


async def list_decisions(
    services: Services,
    *,
    user_id: str | None,
    verdict: Verdict | None,
    cursor: str | None,
    limit: int,
) -> Page[DecisionView]:
    """Decisions newest first, by user and verdict (``validation_error``: a bad cursor)."""
    check_limit(limit)
    after = created_position(cursor) if cursor else None

    async def work(uow: UnitOfWork) -> list[DecisionView]:
        return await repository.list_decisions(
            await uow.connection(), user_id=user_id, verdict=verdict, after=after, limit=limit + 1
        )

    return newest_first_page(await run_unit(services.engine, work, read_only=True), limit)


async def get_decision(services: Services, *, decision_id: str) -> DecisionView:
    """One decision with its explanation; ``not_found``."""

    async def work(uow: UnitOfWork) -> DecisionView | None:
        return await repository.get_decision(await uow.connection(), decision_id)

    found = await run_unit(services.engine, work, read_only=True)
    if found is None:
        raise DecisionNotFoundError("no such risk decision")
    return found


async def rule_hits(services: Services, *, first: date, last: date) -> list[HitCount]:
    """Hits per rule, day (Asia/Shanghai) and mode from ``first`` to ``last`` inclusive
    (``validation_error``: a reversed range or one over 366 days)."""
    if last < first:
        raise ValidationFailedError("'to' is before 'from'")
    if last - first >= timedelta(days=MAX_HIT_DAYS):
        raise ValidationFailedError(f"ask for at most {MAX_HIT_DAYS} days at a time")

    async def work(uow: UnitOfWork) -> list[HitCount]:
        return await repository.hit_counts(await uow.connection(), first=first, last=last)

    return await run_unit(services.engine, work, read_only=True)
