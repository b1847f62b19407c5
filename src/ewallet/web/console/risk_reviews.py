"""Console pages: the risk review queue -- movements the rules held for a person's decision.

- ``/console/risk/reviews``: the queue, open reviews oldest-due first with their age, when
  they are due and an "overdue" badge past it, the channel, the amount and the payer's
  masked phone; filters by state (open, approved, rejected), channel and "overdue only";
- ``/console/risk/reviews/{id}``: one review -- the movement, the decision explained (the
  features read, each fired rule with its condition and the values it saw) and beside it
  the customer's recent movements and risk decisions -- with approve and reject, each
  with a required note;
- ``POST .../approve`` and ``.../reject``: the decision, once. A review someone else
  decided first answers ``409`` and the page says who decided it and when; nothing is
  done twice (``reviews.service``: one conditional update, then the movement's own
  completion, in one unit of work).

Risk officers and admins (``reviews.permissions.RISK_REVIEWS``, the staff API's), over
``ewallet.reviews.service``: one service call per handler, a second one only to show a
refused decision's page again.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.models.risk import ReviewState
from ewallet.models.spending import SpendChannel
from ewallet.reviews import service
from ewallet.reviews.permissions import RISK_REVIEWS
from ewallet.reviews.views import ReviewDetail, ReviewView
from ewallet.staff.permissions import ACCOUNT_GUARD
from ewallet.staff.principal import StaffPrincipal
from ewallet.web.console.auth import allowed
from ewallet.web.console.customers import LABELS
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.risk_decisions import VERDICT_LABELS, VERDICT_TONES, shown
from ewallet.web.console.risk_rules import ACTION_LABELS, MODE_LABELS
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal, see_other
from ewallet.web.kit.templates import when

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

Reviewer = Annotated[StaffPrincipal, Depends(allowed(RISK_REVIEWS))]
ReviewId = Annotated[str, Path(min_length=1, max_length=32)]

QUEUE: Final = "console/risk/reviews.html"
REVIEW: Final = "console/risk/review.html"
PAGE_SIZE: Final = 50
OUTCOMES: Final = frozenset({"approved", "rejected"})
STATE_LABELS: Final = {
    ReviewState.OPEN.value: N_("Open"),
    ReviewState.APPROVED.value: N_("Approved"),
    ReviewState.REJECTED.value: N_("Rejected"),
}
STATE_TONES: Final = {"open": "warn", "approved": "ok", "rejected": "bad"}
CHANNEL_LABELS: Final = {
    SpendChannel.PAYMENT.value: N_("Payment"),
    SpendChannel.PAYMENT_CODE.value: N_("Payment-code charge"),
    SpendChannel.STATIC_QR.value: N_("Static QR payment"),
    SpendChannel.TRANSFER.value: N_("Transfer"),
    SpendChannel.BILL.value: N_("Bill payment"),
    SpendChannel.WITHDRAWAL.value: N_("Withdrawal"),
}
NOTE_REFUSAL: Final = N_("Write a note of 1-500 characters that says why.")
DECIDED: Final = {
    ReviewState.APPROVED.value: N_(
        "Already decided: approved by %(who)s at %(when)s. Nothing was changed."
    ),
    ReviewState.REJECTED.value: N_(
        "Already decided: rejected by %(who)s at %(when)s. Nothing was changed."
    ),
}


def _query(values: dict[str, str]) -> str:
    return urlencode({name: value for name, value in values.items() if value})


@router.get("/risk/reviews")
async def queue_page(
    *,
    request: Request,
    staff: Reviewer,
    services: ServicesDep,
    state: Annotated[str, Query(max_length=16)] = "",
    channel: Annotated[str, Query(max_length=24)] = "",
    overdue: Annotated[str, Query(max_length=8)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    chosen = ReviewState(state) if state in STATE_LABELS else ReviewState.OPEN
    channel = channel if channel in CHANNEL_LABELS else ""
    late = bool(overdue) and chosen is ReviewState.OPEN
    typed = {
        "state": "" if chosen is ReviewState.OPEN else chosen.value,
        "channel": channel,
        "overdue": "1" if late else "",
    }
    error = None
    try:
        page = await service.list_reviews(
            services,
            state=chosen,
            channel=channel or None,
            overdue=late,
            limit=PAGE_SIZE,
            cursor=cursor or None,
        )
    except DomainError as refused:  # a cursor typed by hand
        error = refusal(request, refused)
        page = await service.list_reviews(
            services, state=chosen, channel=channel or None, overdue=late, limit=PAGE_SIZE
        )
    return await console_page(
        request,
        services,
        QUEUE,
        status_code=422 if error else 200,
        error=error,
        reviews=page.items,
        as_of=page.as_of,
        state=chosen.value,
        typed=typed,
        filtered=any(typed.values()),
        channel_labels=CHANNEL_LABELS,
        labels=LABELS,
        state_labels=STATE_LABELS,
        state_tones=STATE_TONES,
        first_page=not cursor,
        newest_url="/console/risk/reviews" + (f"?{_query(typed)}" if any(typed.values()) else ""),
        next_url=f"/console/risk/reviews?{_query({**typed, 'cursor': page.next_cursor})}"
        if page.next_cursor
        else None,
    )


async def _render(
    request: Request,
    services: ServicesDep,
    staff: StaffPrincipal,
    detail: ReviewDetail,
    *,
    done: str = "",
    error: str | None = None,
    note: str = "",
    status_code: int = 200,
) -> Response:
    return await console_page(
        request,
        services,
        REVIEW,
        status_code=status_code,
        detail=detail,
        review=detail.review,
        decision=detail.decision,
        features=sorted(detail.decision.features.items()),
        done=done,
        error=error,
        note=note,
        shown=shown,
        labels=LABELS,
        channel_labels=CHANNEL_LABELS,
        may_open_customer=ACCOUNT_GUARD.allows(staff.role),
        state_labels=STATE_LABELS,
        state_tones=STATE_TONES,
        verdict_labels=VERDICT_LABELS,
        verdict_tones=VERDICT_TONES,
        action_labels=ACTION_LABELS,
        mode_labels=MODE_LABELS,
    )


@router.get("/risk/reviews/{review_id}")
async def review_page(
    request: Request,
    review_id: ReviewId,
    staff: Reviewer,
    services: ServicesDep,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    detail = await service.get_review(services, staff, review_id=review_id)
    return await _render(request, services, staff, detail, done=done if done in OUTCOMES else "")


async def _refused(
    request: Request,
    services: ServicesDep,
    staff: StaffPrincipal,
    review_id: str,
    error: DomainError,
    *,
    note: str,
) -> Response:
    """The review's page again, saying why the decision was refused (nothing was done)."""
    if error.code == "not_found":
        raise error
    detail = await service.get_review(services, staff, review_id=review_id)
    return await _render(
        request,
        services,
        staff,
        detail,
        error=_refusal_text(request, error, detail.review),
        note=note,
        status_code=error.status,
    )


def _refusal_text(request: Request, error: DomainError, review: ReviewView) -> str:
    """A refused decision in words: who decided first and when, a missing note, or the
    movement's own refusal (a payee frozen meanwhile)."""
    locale = locale_of(request)
    if error.code == "conflict" and review.state.value in DECIDED:
        return _t(DECIDED[review.state.value], locale) % {
            "who": review.decided_by or "?",
            "when": when(review.decided_at),
        }
    if error.code == "validation_error" and error.extra.get("field") == "note":
        return _t(NOTE_REFUSAL, locale)
    return refusal(request, error)


@router.post("/risk/reviews/{review_id}/approve")
async def approve(
    *,
    request: Request,
    review_id: ReviewId,
    form: ConsoleForm,
    staff: Reviewer,
    services: ServicesDep,
) -> Response:
    note = form.text("note")
    try:
        await service.approve_review(services, staff, review_id=review_id, note=note)
    except DomainError as error:
        return await _refused(request, services, staff, review_id, error, note=note)
    return see_other(f"/console/risk/reviews/{review_id}?done=approved")


@router.post("/risk/reviews/{review_id}/reject")
async def reject(
    *,
    request: Request,
    review_id: ReviewId,
    form: ConsoleForm,
    staff: Reviewer,
    services: ServicesDep,
) -> Response:
    note = form.text("note")
    try:
        await service.reject_review(services, staff, review_id=review_id, note=note)
    except DomainError as error:
        return await _refused(request, services, staff, review_id, error, note=note)
    return see_other(f"/console/risk/reviews/{review_id}?done=rejected")
