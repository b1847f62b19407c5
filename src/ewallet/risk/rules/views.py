"""What the rule engine and the staff API read: rules, rule sets, decisions, hit counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ewallet.models.risk import RuleAction, RuleMode, RuleSetState, Verdict


@dataclass(frozen=True, slots=True)
class RuleView:
    """One rule as stored (``freeze_account``: a block that also freezes the account)."""

    name: str
    description: str
    events: tuple[str, ...]
    condition: str
    action: RuleAction
    mode: RuleMode
    freeze_account: bool
    position: int


@dataclass(frozen=True, slots=True)
class RuleSetView:
    version: int
    state: RuleSetState
    note: str
    created_by: str
    created_at: datetime
    activated_by: str | None
    activated_at: datetime | None
    rules: tuple[RuleView, ...] = ()


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule whose condition held (or failed: ``error``), and the values it read."""

    name: str
    action: RuleAction
    mode: RuleMode
    condition: str
    values: dict[str, Any]
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action.value,
            "mode": self.mode.value,
            "condition": self.condition,
            "values": self.values,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class DecisionView:
    id: str
    user_id: str
    event: str
    reference: str
    amount: int | None
    currency: str | None
    verdict: Verdict
    rule_set_version: int | None
    features: dict[str, Any]
    fired: tuple[FiredRule, ...]
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HitCount:
    day: date
    rule_name: str
    rule_set_version: int
    mode: RuleMode
    action: RuleAction
    hits: int


@dataclass(frozen=True, slots=True)
class Problem:
    """A rule whose condition does not compile: what is wrong and where."""

    rule: str
    message: str
    position: int
