"""The risk review queue (staff): the use cases behind ``/v1/staff/risk/reviews`` and the
console's review pages.

A movement whose risk decision was ``review`` waits on a ledger hold with an open review
(written by the spend seam, :mod:`ewallet.spend.service`). A risk officer lists the queue
(:func:`list_reviews`, open ones oldest-due first), reads one with its decision's
explanation and the customer's recent activity (:func:`get_review`), and approves or
rejects it with a note (:func:`approve_review`, :func:`reject_review`).

Deciding is ONE unit of work: the conditional ``UPDATE`` that closes the review (0 rows:
``409 conflict`` with member ``state``, nothing else done), then the owning feature's
completion, dispatched by the review's channel (:data:`FINISHERS`: approve posts the hold
and completes the movement, reject voids it and releases the spend from the limits), then
the audit event. Of two decisions racing on one review exactly one wins; a refused one
(the payee frozen meanwhile, say) rolls everything back and leaves the review open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import Final, Protocol

from ewallet.agent_context.service import customer_transactions
from ewallet.audit.service import record_event
from ewallet.bills.service import finish_reviewed_bill
from ewallet.funding.withdrawals.service import finish_reviewed_withdrawal
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import check_limit, decode_cursor, encode_cursor
from ewallet.models.risk import ReviewState
from ewallet.models.spending import SpendChannel
from ewallet.payments.held.service import finish_reviewed_payment
from ewallet.reviews.errors import ReviewDecidedError, ReviewNotFoundError
from ewallet.reviews.views import RecentActivity, ReviewDetail, ReviewPage
from ewallet.risk.review import service as reviews
from ewallet.risk.review.views import ReviewView
from ewallet.risk.rules.service import get_decision, list_decisions
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal
from ewallet.transfers.service import finish_reviewed_transfer

NOTE_MAX_LENGTH: Final = 500
RECENT: Final = 20  # the customer's latest movements and decisions shown beside a review


class Finisher(Protocol):
    """A feature's completion of its held movement, in the deciding unit: approved, it
    posts the review's hold and completes the movement; rejected, it voids the hold,
    releases the spend from the limits and tells the customer. It may refuse (raise), and
    then the whole decision is rolled back."""

    def __call__(
        self, uow: UnitOfWork, clock: Clock, review: ReviewView, *, approved: bool
    ) -> Awaitable[None]: ...


# Which feature finishes a held movement of each channel. A channel is added here when its
# feature keeps reviews waiting (``keeps_held=True``): transfers, bills and withdrawals.
FINISHERS: Final[Mapping[str, Finisher]] = {
    SpendChannel.TRANSFER.value: finish_reviewed_transfer,
    SpendChannel.BILL.value: finish_reviewed_bill,
    SpendChannel.WITHDRAWAL.value: finish_reviewed_withdrawal,
    SpendChannel.PAYMENT.value: finish_reviewed_payment,
    SpendChannel.STATIC_QR.value: finish_reviewed_payment,
}


def _checked_note(note: str) -> str:
    """A decision's note is required: 1-500 characters, not only white space."""
    stripped = note.strip()
    if not stripped or len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailedError(
            f"a note of 1-{NOTE_MAX_LENGTH} characters says why", field="note"
        )
    return stripped


def _position(cursor: str) -> tuple[datetime, str]:
    position = decode_cursor(cursor)
    at, row_id = position.get("at"), position.get("id")
    if not isinstance(at, str) or not isinstance(row_id, str):
        raise ValidationFailedError("malformed cursor")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationFailedError("malformed cursor") from None
    if moment.tzinfo is None:
        raise ValidationFailedError("malformed cursor")
    return moment, row_id


async def list_reviews(
    services: Services,
    *,
    state: ReviewState = ReviewState.OPEN,
    channel: str | None = None,
    overdue: bool = False,
    limit: int = 20,
    cursor: str | None = None,
) -> ReviewPage:
    """One page of the queue: open reviews oldest-due first (``overdue``: only those past
    their SLA), decided ones the latest decided first; ``channel`` narrows to one kind of
    movement. ``validation_error``: a limit out of range, a bad cursor, an unknown channel,
    ``overdue`` with a state other than ``open``."""
    check_limit(limit)
    if channel is not None and channel not in {c.value for c in SpendChannel}:
        raise ValidationFailedError(f"unknown channel {channel!r}", field="channel")
    if overdue and state is not ReviewState.OPEN:
        raise ValidationFailedError("only open reviews can be overdue", field="overdue")
    after = _position(cursor) if cursor else None
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> list[ReviewView]:
        if state is ReviewState.OPEN:
            return await reviews.list_open(
                uow,
                channel=channel,
                due_before=now if overdue else None,
                after=after,
                limit=limit + 1,
            )
        return await reviews.list_decided(
            uow, state=state, channel=channel, after=after, limit=limit + 1
        )

    found = await run_unit(services.engine, work, read_only=True)
    items = found[:limit]
    next_cursor = None
    if len(found) > limit:
        last = items[-1]
        at = last.due_at if state is ReviewState.OPEN else last.decided_at
        assert at is not None
        next_cursor = encode_cursor({"at": at.isoformat(), "id": last.id})
    return ReviewPage(items, next_cursor, now)


async def _review(services: Services, review_id: str) -> ReviewView:
    found = await run_unit(
        services.engine, lambda uow: reviews.review_by_id(uow, review_id), read_only=True
    )
    if found is None:
        raise ReviewNotFoundError("no such review")
    return found


async def get_review(services: Services, staff: StaffPrincipal, *, review_id: str) -> ReviewDetail:
    """One review with its decision explained and the customer's latest :data:`RECENT`
    movements and risk decisions (the look at the customer's history is audited as every
    staff look is: ``support.customer_transactions_viewed``). ``not_found``."""
    review = await _review(services, review_id)
    decision = await get_decision(services, decision_id=review.decision_id)
    transactions = await customer_transactions(
        services, staff, user_id=review.user_id, limit=RECENT
    )
    decisions = await list_decisions(
        services, user_id=review.user_id, verdict=None, cursor=None, limit=RECENT
    )
    return ReviewDetail(
        review=review,
        decision=decision,
        recent=RecentActivity(transactions.items, decisions.items),
        as_of=services.clock.now(),
    )


async def _decide(
    services: Services, staff: StaffPrincipal, *, review_id: str, note: str, approved: bool
) -> ReviewView:
    checked = _checked_note(note)
    clock = services.clock
    action = "risk.review_approved" if approved else "risk.review_rejected"

    async def work(uow: UnitOfWork) -> ReviewView:
        closed = await reviews.close_review(
            uow,
            review_id=review_id,
            approved=approved,
            staff_id=staff.staff_id,
            note=checked,
            now=clock.now(),
        )
        if closed is None:
            current = await reviews.review_by_id(uow, review_id)
            if current is None:
                raise ReviewNotFoundError("no such review")
            raise ReviewDecidedError(
                f"the review is {current.state.value} already", state=current.state.value
            )
        finish = FINISHERS.get(closed.channel)
        if finish is None:  # a channel whose feature never keeps a review waiting
            raise ReviewDecidedError(
                f"{closed.channel} reviews cannot be decided here", state=closed.state.value
            )
        await finish(uow, clock, closed, approved=approved)
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=staff.actor(),
            action=action,
            subject_type="risk_review",
            subject_id=closed.id,
            details={
                "note": checked,
                "channel": closed.channel,
                "subject_id": closed.subject_id,
                "user_id": closed.user_id,
                "amount": closed.amount.to_decimal_string(),
                "currency": closed.amount.currency,
                "decision_id": closed.decision_id,
            },
        )
        return closed

    return await run_unit(services.engine, work)


async def approve_review(
    services: Services, staff: StaffPrincipal, *, review_id: str, note: str
) -> ReviewView:
    """Approve an open review: its movement completes, exactly once (module doc).
    Refusals: ``validation_error`` (the note), ``not_found``, ``conflict`` (not open,
    member ``state``), and the feature's own (a transfer's ``payee_account_frozen``, or
    ``account_frozen`` for a payer frozen meanwhile); each changes nothing."""
    return await _decide(services, staff, review_id=review_id, note=note, approved=True)


async def reject_review(
    services: Services, staff: StaffPrincipal, *, review_id: str, note: str
) -> ReviewView:
    """Reject an open review: the hold is released, the spend no longer counts toward the
    limits and the customer is told the money is back. Refusals as :func:`approve_review`'s
    but the feature's: a rejection always goes through."""
    return await _decide(services, staff, review_id=review_id, note=note, approved=False)


__all__ = [
    "FINISHERS",
    "NOTE_MAX_LENGTH",
    "RECENT",
    "Finisher",
    "approve_review",
    "get_review",
    "list_reviews",
    "reject_review",
]
