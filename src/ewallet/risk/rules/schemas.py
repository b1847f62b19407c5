"""Request and response bodies of the staff risk-rule routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from ewallet.kit.request_model import RequestModel
from ewallet.models.risk import RuleAction, RuleMode, RuleSetState, Verdict
from ewallet.risk.rules.catalogue import Feature
from ewallet.risk.rules.views import (
    DecisionView,
    FiredRule,
    HitCount,
    Problem,
    RuleSetView,
    RuleView,
)


class RuleIn(RequestModel):
    description: str = Field(max_length=2000)
    events: list[str] = Field(min_length=1, max_length=20)
    condition: str = Field(min_length=1, max_length=2000)
    action: RuleAction
    mode: RuleMode = RuleMode.LIVE
    freeze_account: bool = False
    position: int = Field(default=0, ge=0, le=10_000)

    def view(self, name: str) -> RuleView:
        return RuleView(
            name=name,
            description=self.description,
            events=tuple(self.events),
            condition=self.condition,
            action=self.action,
            mode=self.mode,
            freeze_account=self.freeze_account,
            position=self.position,
        )


class DraftIn(RequestModel):
    from_version: int | None = Field(default=None, ge=1)
    note: str = Field(default="", max_length=500)


class RuleOut(BaseModel):
    name: str
    description: str
    events: list[str]
    condition: str
    action: RuleAction
    mode: RuleMode
    freeze_account: bool
    position: int

    @classmethod
    def of(cls, rule: RuleView) -> RuleOut:
        return cls(
            name=rule.name,
            description=rule.description,
            events=list(rule.events),
            condition=rule.condition,
            action=rule.action,
            mode=rule.mode,
            freeze_account=rule.freeze_account,
            position=rule.position,
        )


class RuleSetOut(BaseModel):
    version: int
    state: RuleSetState
    note: str
    created_by: str
    created_at: datetime
    activated_by: str | None
    activated_at: datetime | None
    rules: list[RuleOut] | None = None  # in the one-set answer only

    @classmethod
    def of(cls, found: RuleSetView, *, with_rules: bool = True) -> RuleSetOut:
        return cls(
            version=found.version,
            state=found.state,
            note=found.note,
            created_by=found.created_by,
            created_at=found.created_at,
            activated_by=found.activated_by,
            activated_at=found.activated_at,
            rules=[RuleOut.of(rule) for rule in found.rules] if with_rules else None,
        )


class RuleSetList(BaseModel):
    items: list[RuleSetOut]


class ProblemOut(BaseModel):
    rule: str
    message: str
    position: int


class ValidationOut(BaseModel):
    valid: bool
    problems: list[ProblemOut]

    @classmethod
    def of(cls, problems: list[Problem]) -> ValidationOut:
        return cls(
            valid=not problems,
            problems=[
                ProblemOut(rule=p.rule, message=p.message, position=p.position) for p in problems
            ],
        )


class FiredRuleOut(BaseModel):
    name: str
    action: RuleAction
    mode: RuleMode
    condition: str
    values: dict[str, Any]  # the features the condition read, as it saw them
    error: str | None

    @classmethod
    def of(cls, rule: FiredRule) -> FiredRuleOut:
        return cls(
            name=rule.name,
            action=rule.action,
            mode=rule.mode,
            condition=rule.condition,
            values=rule.values,
            error=rule.error,
        )


class DecisionOut(BaseModel):
    id: str
    user_id: str
    event: str
    reference: str
    amount: str | None  # decimal yuan
    currency: str | None
    verdict: Verdict
    rule_set_version: int | None
    fired_rules: list[str]
    error: str | None
    created_at: datetime

    @classmethod
    def of(cls, view: DecisionView) -> DecisionOut:
        return cls(
            id=view.id,
            user_id=view.user_id,
            event=view.event,
            reference=view.reference,
            amount=None if view.amount is None else f"{view.amount / 100:.2f}",
            currency=view.currency,
            verdict=view.verdict,
            rule_set_version=view.rule_set_version,
            fired_rules=[rule.name for rule in view.fired],
            error=view.error,
            created_at=view.created_at,
        )


class DecisionPage(BaseModel):
    items: list[DecisionOut]
    next_cursor: str | None


class DecisionExplained(DecisionOut):
    features: dict[str, Any]
    fired: list[FiredRuleOut]

    @classmethod
    def explain(cls, view: DecisionView) -> DecisionExplained:
        summary = DecisionOut.of(view)
        return cls(
            **summary.model_dump(),
            features=view.features,
            fired=[FiredRuleOut.of(rule) for rule in view.fired],
        )


class DecisionEnvelope(BaseModel):
    decision: DecisionExplained


class HitCountOut(BaseModel):
    day: date
    rule_name: str
    rule_set_version: int
    mode: RuleMode
    action: RuleAction
    hits: int

    @classmethod
    def of(cls, count: HitCount) -> HitCountOut:
        return cls(
            day=count.day,
            rule_name=count.rule_name,
            rule_set_version=count.rule_set_version,
            mode=count.mode,
            action=count.action,
            hits=count.hits,
        )


class HitCountList(BaseModel):
    items: list[HitCountOut]


class FeatureOut(BaseModel):
    name: str
    type: str
    source: str
    doc: str

    @classmethod
    def of(cls, feature: Feature) -> FeatureOut:
        return cls(
            name=feature.name,
            type=feature.type.value,
            source=feature.source.value,
            doc=feature.doc,
        )


class FeatureCatalogue(BaseModel):
    items: list[FeatureOut]
    events: list[str]  # what a rule's ``events`` may name
