"""The risk engine: the active rule set, compiled and cached, decided on one movement.

:func:`evaluate` reads the active rule set (cached per process and database; see
:func:`rule_book`), computes the features the rules for the movement's event read, and
evaluates each rule. Live rules decide: ``block`` over ``review`` over ``challenge`` over
``allow``; a ``report`` rule records an AML report candidate and lets the movement go. Shadow
rules are evaluated and their hits recorded, never acting. A live rule that fails at run
time (:class:`RuleEvaluationError`) fails closed: the verdict is at least ``review`` and a
``rule_error`` alert is raised. :func:`record` stores the decision with the features read
and the rules that fired, in the unit it is given.

Refresh: the active version is checked at most every ``refresh`` (2 s by default,
``EWALLET_RISK_RULES_REFRESH_SECONDS``) per process, on the spend's own connection; an
activation is seen by every process within that bound, and at once by the process that
activated it (:func:`forget`).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool

from ewallet.config import Settings
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.money import Money
from ewallet.models.aml import SubjectType
from ewallet.models.risk import RuleAction, RuleMode, Verdict
from ewallet.risk.alerts import raise_alert
from ewallet.risk.aml.service import record_suspicious_candidate
from ewallet.risk.rules import repository
from ewallet.risk.rules.catalogue import SCHEMA
from ewallet.risk.rules.defaults import DEFAULT_NOTE, DEFAULT_RULES
from ewallet.risk.rules.features import CHINA, Movement, compute, free_values
from ewallet.risk.rules.features.screening import WatchlistKeys
from ewallet.risk.rules.language import (
    Condition,
    RuleEvaluationError,
    RuleSyntaxError,
    Value,
    compile_condition,
)
from ewallet.risk.rules.views import FiredRule, RuleView
from ewallet.risk.watchlist.service import PendingScreening, record_screening
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import FieldCipher, sha256_hex

RULE_ERROR_ALERT: Final = "rule_error"
_RANK: Final = {
    RuleAction.CHALLENGE: Verdict.CHALLENGE,
    RuleAction.REVIEW: Verdict.REVIEW,
    RuleAction.BLOCK: Verdict.BLOCK,
}
_ORDER: Final = (Verdict.ALLOW, Verdict.CHALLENGE, Verdict.REVIEW, Verdict.BLOCK)


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """What the engine takes from the settings. ``watchlist`` (the cipher real names are
    sealed with, and the match threshold) is what the watch-list features need; without it
    (a test's bare ``RiskSettings()``) they are null."""

    refresh_seconds: float = 2.0
    hotline: str = "95588"
    large_cash_threshold_minor: int = 50_000_00
    watchlist: WatchlistKeys | None = field(default=None, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RiskSettings:
        cipher = field_cipher(settings)
        return cls(
            refresh_seconds=settings.risk_rules_refresh_seconds,
            hotline=settings.hotline,
            large_cash_threshold_minor=settings.large_cash_threshold_minor,
            watchlist=(
                None
                if cipher is None
                else WatchlistKeys(cipher, settings.watchlist_match_threshold)
            ),
        )


_CIPHERS: dict[str, FieldCipher] = {}


def field_cipher(settings: Settings) -> FieldCipher | None:
    """The process's field cipher for ``settings``' secret key (the one
    :class:`~ewallet.security.context.SecurityContext` seals real names with), derived once
    per key: the policy is built per spend, the key derivation should not be."""
    if settings.secret_key is None or settings.pin_pepper is None:
        return None
    key = sha256_hex(settings.secret_key.get_secret_value())
    cipher = _CIPHERS.get(key)
    if cipher is None:
        cipher = _CIPHERS[key] = SecurityContext.from_settings(settings).cipher
    return cipher


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: RuleView
    condition: Condition | None
    compile_error: str | None = None

    @property
    def features(self) -> frozenset[str]:
        return frozenset() if self.condition is None else self.condition.features

    def holds(self, values: Mapping[str, Value]) -> bool:
        if self.condition is None:
            raise RuleEvaluationError(f"the condition does not compile: {self.compile_error}")
        return self.condition.evaluate(values)


def compile_rule(rule: RuleView) -> CompiledRule:
    """The rule compiled against the catalogue; a stored rule that no longer compiles is
    kept, and fails (closed) when evaluated."""
    try:
        return CompiledRule(rule, compile_condition(rule.condition, SCHEMA))
    except RuleSyntaxError as error:
        return CompiledRule(rule, None, str(error))


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The active rule set, compiled, with its rules and features by event."""

    version: int | None
    rules: tuple[CompiledRule, ...]
    _by_event: dict[str, tuple[tuple[CompiledRule, ...], frozenset[str]]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(cls, version: int | None, rules: tuple[RuleView, ...]) -> RuleBook:
        compiled = tuple(compile_rule(rule) for rule in rules)
        events = {event for rule in rules for event in rule.events}
        by_event: dict[str, tuple[tuple[CompiledRule, ...], frozenset[str]]] = {}
        for event in events:
            applying = tuple(rule for rule in compiled if event in rule.rule.events)
            needed = frozenset().union(*(rule.features for rule in applying))
            by_event[event] = (applying, needed)
        return cls(version, compiled, by_event)

    def for_event(self, event: str) -> tuple[tuple[CompiledRule, ...], frozenset[str]]:
        return self._by_event.get(event, ((), frozenset()))


@dataclass(slots=True)
class _Cached:
    book: RuleBook
    checked_at: datetime


# Keyed by the engine's pool: a unit's connection comes from an engine with its own
# execution options (a new Engine object each time), but always from the one pool.
_BOOKS: weakref.WeakKeyDictionary[Pool, _Cached] = weakref.WeakKeyDictionary()


def forget(engine: AsyncEngine) -> None:
    """Drop this process's cached rule set for ``engine`` (after an activation)."""
    _BOOKS.pop(engine.pool, None)


async def ensure_rule_set(conn: AsyncConnection, *, now: datetime) -> int | None:
    """The active version; on a database without any rule set, version 1 with the
    default rules is written first (idempotent: a concurrent seed wins, this one adds
    nothing)."""
    version = await repository.active_version(conn)
    if version is None and not await repository.any_rule_set(conn):
        await repository.seed_rule_set(conn, rules=DEFAULT_RULES, note=DEFAULT_NOTE, now=now)
        version = await repository.active_version(conn)
    return version


async def rule_book(conn: AsyncConnection, *, now: datetime, refresh: timedelta) -> RuleBook:
    """The active rule set, compiled; the active version is re-read at most every
    ``refresh`` (or when the clock went back)."""
    key = conn.engine.pool
    cached = _BOOKS.get(key)
    if cached is not None and timedelta(0) <= now - cached.checked_at < refresh:
        return cached.book
    version = await ensure_rule_set(conn, now=now)
    if cached is not None and cached.book.version == version:
        book = cached.book
    else:
        rules = await repository.rules_of(conn, version) if version is not None else ()
        book = RuleBook.of(version, rules)
    _BOOKS[key] = _Cached(book, now)
    return book


@dataclass(frozen=True, slots=True)
class Outcome:
    """One evaluation: the verdict and everything stored to explain it."""

    verdict: Verdict
    version: int | None
    features: dict[str, Any]  # JSON-ready: money and fractions as decimal strings
    fired: tuple[FiredRule, ...]  # live and shadow hits, and failed rules (``error``)
    freeze_account: bool = False
    # The watch-list screenings of a transfer's parties, written with the decision.
    screenings: tuple[PendingScreening, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """The live rules that acted, for the hold's metadata and the logs."""
        return tuple(
            rule.name
            for rule in self.fired
            if rule.mode is RuleMode.LIVE and rule.action is not RuleAction.REPORT
        )

    @property
    def error(self) -> str | None:
        failed = [f"{rule.name}: {rule.error}" for rule in self.fired if rule.error]
        return "; ".join(failed) or None

    @property
    def reports(self) -> tuple[FiredRule, ...]:
        return tuple(
            rule
            for rule in self.fired
            if rule.mode is RuleMode.LIVE and rule.action is RuleAction.REPORT and not rule.error
        )


def jsonable(value: Value) -> Any:
    return str(value) if isinstance(value, Decimal) else value


async def evaluate(
    conn: AsyncConnection, movement: Movement, *, now: datetime, settings: RiskSettings
) -> Outcome:
    """Decide ``movement`` under the active rule set (module doc)."""
    book = await rule_book(conn, now=now, refresh=timedelta(seconds=settings.refresh_seconds))
    rules, needed = book.for_event(movement.event)
    if not rules:
        return Outcome(Verdict.ALLOW, book.version, {}, ())
    # First on the features that cost nothing: a condition decided without reaching a
    # feature it lacks is decided (``amount >= 5000 and ...`` on a 10-yuan payment); only
    # the rules that need more make the engine read the database, once.
    values = free_values(movement, needed, now=now)
    early: dict[str, bool] = {}
    for compiled in rules:
        try:
            early[compiled.rule.name] = compiled.holds(values)
        except RuleEvaluationError:
            continue
    pending = [compiled for compiled in rules if compiled.rule.name not in early]
    screenings: tuple[PendingScreening, ...] = ()
    if pending:
        computed = await compute(
            conn,
            movement,
            frozenset().union(*(compiled.features for compiled in pending)) | values.keys(),
            now=now,
            large_cash_threshold_minor=settings.large_cash_threshold_minor,
            watchlist=settings.watchlist,
        )
        values, screenings = computed.values, computed.screenings
    verdict = Verdict.ALLOW
    fired: list[FiredRule] = []
    freeze_account = False
    for compiled in rules:
        rule = compiled.rule
        seen = {
            name: jsonable(values[name]) for name in sorted(compiled.features) if name in values
        }
        try:
            holds = early[rule.name] if rule.name in early else compiled.holds(values)
        except RuleEvaluationError as error:
            fired.append(
                FiredRule(rule.name, rule.action, rule.mode, rule.condition, seen, str(error))
            )
            if rule.mode is RuleMode.LIVE:
                verdict = _worse(verdict, Verdict.REVIEW)
            continue
        if not holds:
            continue
        fired.append(FiredRule(rule.name, rule.action, rule.mode, rule.condition, seen))
        if rule.mode is RuleMode.LIVE and rule.action in _RANK:
            verdict = _worse(verdict, _RANK[rule.action])
            freeze_account = freeze_account or (
                rule.action is RuleAction.BLOCK and rule.freeze_account
            )
    features = {name: jsonable(value) for name, value in sorted(values.items())}
    return Outcome(verdict, book.version, features, tuple(fired), freeze_account, screenings)


def _worse(current: Verdict, other: Verdict) -> Verdict:
    return max(current, other, key=_ORDER.index)


@dataclass(frozen=True, slots=True)
class _At:
    """A clock stopped at the decision's time (for the alert written with it)."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


async def record(uow: UnitOfWork, movement: Movement, outcome: Outcome, *, now: datetime) -> str:
    """Store the decision and its rule hits in ``uow``; a suspicious-transaction report
    candidate for each live ``report`` rule that fired (:mod:`ewallet.risk.aml`); a
    ``rule_error`` alert when a rule failed; the watch-list hits of its screenings (with
    the ``watchlist_match`` alert). Returns the decision's id."""
    amount = movement.amount
    decision_id = await repository.insert_decision(
        await uow.connection(),
        user_id=movement.user_id,
        event=movement.event,
        reference=movement.reference,
        amount=None if amount is None else amount.minor,
        currency=None if amount is None else amount.currency,
        verdict=outcome.verdict,
        rule_set_version=outcome.version,
        features=outcome.features,
        fired=outcome.fired,
        error=outcome.error,
        day=china_day(now),
        now=now,
    )
    for report in outcome.reports:
        await record_suspicious_candidate(
            uow,
            clock=_At(now),
            subject_type=SubjectType.USER,
            subject_id=movement.user_id,
            day=china_day(now),
            amount=amount if amount is not None else Money.zero(),
            references=[movement.reference],
            rule_name=report.name,
            reason=f"risk rule {report.name} (decision {decision_id}): {report.condition}",
        )
    for screening in outcome.screenings:
        await record_screening(uow, screening, reference=movement.reference, clock=_At(now))
    failed = [rule for rule in outcome.fired if rule.error]
    if failed:
        await raise_alert(
            uow,
            clock=_At(now),
            kind=RULE_ERROR_ALERT,
            subject_type="risk_decision",
            subject_id=decision_id,
            details={
                "user_id": movement.user_id,
                "rule_set_version": outcome.version,
                "rules": [rule.name for rule in failed],
                "error": outcome.error,
                "verdict": outcome.verdict.value,
            },
        )
    return decision_id


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()
