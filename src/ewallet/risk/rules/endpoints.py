"""Staff routes of the risk rules: rule sets and their rules (drafts edited, validated,
activated), the decisions and their explanations, the rules' daily hit counts, and the
feature catalogue (docs/risk-rules.md). Risk officers only; admins pass."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.models.risk import Verdict
from ewallet.risk.rules import service
from ewallet.risk.rules.permissions import RISK_RULES
from ewallet.risk.rules.schemas import (
    DecisionEnvelope,
    DecisionExplained,
    DecisionOut,
    DecisionPage,
    DraftIn,
    FeatureCatalogue,
    FeatureOut,
    HitCountList,
    HitCountOut,
    RuleIn,
    RuleOut,
    RuleSetList,
    RuleSetOut,
    ValidationOut,
)
from ewallet.staff.deps import require_permission
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff/risk", tags=["staff", "risk"])
RiskOfficer = Annotated[StaffPrincipal, Depends(require_permission(RISK_RULES))]
RuleName = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/rule-sets", summary="Every rule set version, newest first")
async def list_rule_sets(staff: RiskOfficer, services: ServicesDep) -> RuleSetList:
    found = await service.list_rule_sets(services)
    return RuleSetList(items=[RuleSetOut.of(item, with_rules=False) for item in found])


@router.post("/rule-sets", status_code=201, summary="A new draft: a copy of the active set")
async def create_draft(body: DraftIn, staff: RiskOfficer, services: ServicesDep) -> RuleSetOut:
    created = await service.create_draft(
        services, staff.actor(), from_version=body.from_version, note=body.note
    )
    return RuleSetOut.of(created)


@router.get("/rule-sets/{version}", summary="One rule set with its rules")
async def get_rule_set(version: int, staff: RiskOfficer, services: ServicesDep) -> RuleSetOut:
    return RuleSetOut.of(await service.get_rule_set(services, version=version))


@router.put("/rule-sets/{version}/rules/{name}", summary="Add or replace a rule of a draft")
async def put_rule(
    version: int, name: RuleName, body: RuleIn, staff: RiskOfficer, services: ServicesDep
) -> RuleOut:
    saved = await service.save_rule(services, staff.actor(), version=version, rule=body.view(name))
    return RuleOut.of(saved)


@router.delete(
    "/rule-sets/{version}/rules/{name}", status_code=204, summary="Remove a rule from a draft"
)
async def delete_rule(
    version: int, name: RuleName, staff: RiskOfficer, services: ServicesDep
) -> Response:
    await service.delete_rule(services, staff.actor(), version=version, name=name)
    return Response(status_code=204)


@router.post("/rule-sets/{version}/validate", summary="Compile every condition of a set")
async def validate_rule_set(
    version: int, staff: RiskOfficer, services: ServicesDep
) -> ValidationOut:
    return ValidationOut.of(await service.validate_rule_set(services, version=version))


@router.post("/rule-sets/{version}/activate", summary="Make a draft the active rule set")
async def activate_rule_set(version: int, staff: RiskOfficer, services: ServicesDep) -> RuleSetOut:
    activated = await service.activate_rule_set(services, staff.actor(), version=version)
    return RuleSetOut.of(activated)


@router.get("/decisions", summary="Risk decisions, newest first")
async def list_decisions(
    *,
    staff: RiskOfficer,
    services: ServicesDep,
    user_id: Annotated[str | None, Query(max_length=32)] = None,
    verdict: Verdict | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DecisionPage:
    page = await service.list_decisions(
        services, user_id=user_id, verdict=verdict, cursor=cursor, limit=limit
    )
    return DecisionPage(
        items=[DecisionOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )


@router.get("/decisions/{decision_id}", summary="One decision, explained")
async def get_decision(
    decision_id: Annotated[str, Path(max_length=32)], staff: RiskOfficer, services: ServicesDep
) -> DecisionEnvelope:
    view = await service.get_decision(services, decision_id=decision_id)
    return DecisionEnvelope(decision=DecisionExplained.explain(view))


@router.get("/rule-hits", summary="Hits per rule, day and mode (shadow rules included)")
async def rule_hits(
    *,
    staff: RiskOfficer,
    services: ServicesDep,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
) -> HitCountList:
    counts = await service.rule_hits(services, first=first, last=last)
    return HitCountList(items=[HitCountOut.of(count) for count in counts])


@router.get("/features", summary="The features a rule's condition may read")
async def list_features(staff: RiskOfficer) -> FeatureCatalogue:
    return FeatureCatalogue(
        items=[FeatureOut.of(feature) for feature in service.features()],
        events=list(service.events()),
    )
