"""AML report routes for risk officers (admins pass): the day's candidates, the day's
report as a file (audited), and a decision on a candidate (audited; once).

An unknown candidate id answers ``404 not_found``; a second decision ``409
aml_candidate_already_decided``; a malformed or future date ``422 validation_error``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from ewallet.http.deps import ServicesDep
from ewallet.http.downloads import download
from ewallet.models.aml import CandidateState, ExportFormat
from ewallet.models.operations import StaffRole
from ewallet.risk.aml import service
from ewallet.risk.aml.schemas import CandidateEnvelope, CandidateList, CandidateOut, DecisionIn
from ewallet.staff.deps import require_roles
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff/aml", tags=["staff", "aml"])
RiskOfficer = Annotated[StaffPrincipal, Depends(require_roles(StaffRole.RISK_OFFICER))]
Day = Annotated[date, Query(alias="date", description="Business day YYYY-MM-DD (Beijing)")]


@router.get("/reports", summary="A day's large-value reports and suspicious candidates")
async def list_reports(staff: RiskOfficer, services: ServicesDep, day: Day) -> CandidateList:
    views = await service.list_candidates(services, day=day)
    return CandidateList(date=day, items=[CandidateOut.of(view) for view in views])


@router.get(
    "/reports/export",
    summary="A day's report as CSV or XML, with the identities the rules require (audited)",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}, "application/xml": {}},
            "description": "The report file",
        }
    },
)
async def export_report(
    staff: RiskOfficer,
    services: ServicesDep,
    day: Day,
    export_format: Annotated[Literal["csv", "xml"], Query(alias="format")] = "csv",
) -> Response:
    exported = await service.export_day(
        services, staff.actor(), day=day, export_format=ExportFormat(export_format)
    )
    return download(exported.content, media_type=exported.media_type, filename=exported.filename)


@router.post(
    "/candidates/{candidate_id}/report",
    summary="Mark a candidate reported to the regulator, with a note (audited; once)",
)
async def report_candidate(
    candidate_id: str, body: DecisionIn, staff: RiskOfficer, services: ServicesDep
) -> CandidateEnvelope:
    view = await service.decide_candidate(
        services,
        staff,
        candidate_id=candidate_id,
        decision=CandidateState.REPORTED,
        note=body.note,
    )
    return CandidateEnvelope(candidate=CandidateOut.of(view))


@router.post(
    "/candidates/{candidate_id}/dismiss",
    summary="Dismiss a candidate, with a note saying why (audited; once)",
)
async def dismiss_candidate(
    candidate_id: str, body: DecisionIn, staff: RiskOfficer, services: ServicesDep
) -> CandidateEnvelope:
    view = await service.decide_candidate(
        services,
        staff,
        candidate_id=candidate_id,
        decision=CandidateState.DISMISSED,
        note=body.note,
    )
    return CandidateEnvelope(candidate=CandidateOut.of(view))
