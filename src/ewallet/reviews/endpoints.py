"""``/v1/staff/risk/reviews``: the queue of movements held for review, one review
explained, approve and reject (risk officers; docs/risk-review.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.models.risk import ReviewState
from ewallet.reviews import service
from ewallet.reviews.permissions import RISK_REVIEWS
from ewallet.reviews.schemas import (
    DecisionNoteIn,
    ReviewDetailOut,
    ReviewEnvelope,
    ReviewOut,
    ReviewPageOut,
)
from ewallet.staff.deps import require_permission
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff/risk/reviews", tags=["staff", "risk"])
RiskOfficer = Annotated[StaffPrincipal, Depends(require_permission(RISK_REVIEWS))]
ReviewId = Annotated[str, Path(max_length=32)]


@router.get("", summary="Movements held for review: open ones oldest-due first, with SLA")
async def list_reviews(
    *,
    staff: RiskOfficer,
    services: ServicesDep,
    state: ReviewState = ReviewState.OPEN,
    channel: Annotated[str | None, Query(max_length=24)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ReviewPageOut:
    page = await service.list_reviews(
        services, state=state, channel=channel, overdue=overdue, limit=limit, cursor=cursor
    )
    return ReviewPageOut(
        items=[ReviewOut.of(item, now=page.as_of) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{review_id}",
    summary="One review: the decision explained and the customer's recent activity",
)
async def get_review(
    review_id: ReviewId, staff: RiskOfficer, services: ServicesDep
) -> ReviewDetailOut:
    return ReviewDetailOut.of(await service.get_review(services, staff, review_id=review_id))


@router.post("/{review_id}/approve", summary="Approve: the held movement completes, once")
async def approve_review(
    review_id: ReviewId, body: DecisionNoteIn, staff: RiskOfficer, services: ServicesDep
) -> ReviewEnvelope:
    review = await service.approve_review(services, staff, review_id=review_id, note=body.note)
    return ReviewEnvelope(review=ReviewOut.of(review, now=review.decided_at or review.created_at))


@router.post("/{review_id}/reject", summary="Reject: the hold is released, the customer told")
async def reject_review(
    review_id: ReviewId, body: DecisionNoteIn, staff: RiskOfficer, services: ServicesDep
) -> ReviewEnvelope:
    review = await service.reject_review(services, staff, review_id=review_id, note=body.note)
    return ReviewEnvelope(review=ReviewOut.of(review, now=review.decided_at or review.created_at))
