"""Reviews of held movements, in the caller's unit of work.

The spend seam opens one (:func:`open_review`) in the unit that holds the money; the staff
queue (:mod:`ewallet.reviews.service`) reads them and closes one (:func:`close_review`) in
the unit that completes or releases the movement. Nothing here commits: a review exists
exactly when its hold does, and is decided exactly when its movement is finished.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.models.risk import ReviewState
from ewallet.risk.review import repository
from ewallet.risk.review.views import ReviewView


async def open_review(
    uow: UnitOfWork,
    *,
    decision_id: str,
    user_id: str,
    channel: str,
    reference: str,
    subject_id: str,
    amount: Money,
    hold_id: str,
    now: datetime,
    sla: timedelta,
) -> ReviewView:
    """Write the open review of a held movement, due ``sla`` after ``now``."""
    review_id = new_id("rvw")
    conn = await uow.connection()
    await repository.insert_review(
        conn,
        review_id=review_id,
        decision_id=decision_id,
        user_id=user_id,
        channel=channel,
        reference=reference,
        subject_id=subject_id,
        amount=amount,
        hold_id=hold_id,
        now=now,
        due_at=now + sla,
    )
    found = await repository.review_by_id(conn, review_id)
    assert found is not None
    return found


async def review_by_id(uow: UnitOfWork, review_id: str) -> ReviewView | None:
    return await repository.review_by_id(await uow.connection(), review_id)


async def review_by_reference(uow: UnitOfWork, reference: str) -> ReviewView | None:
    """The review of the movement whose spend reference is ``reference``, if it was held."""
    return await repository.review_by_reference(await uow.connection(), reference)


async def close_review(
    uow: UnitOfWork,
    *,
    review_id: str,
    approved: bool,
    staff_id: str,
    note: str,
    now: datetime,
) -> ReviewView | None:
    """Approve or reject an open review (one conditional ``UPDATE``, step 2 of the lock
    order); ``None`` when it was not open, and then nothing changed."""
    conn = await uow.connection()
    state = ReviewState.APPROVED if approved else ReviewState.REJECTED
    closed = await repository.close_review(
        conn, review_id=review_id, state=state, staff_id=staff_id, note=note, now=now
    )
    if not closed:
        return None
    return await repository.review_by_id(conn, review_id)


async def list_open(
    uow: UnitOfWork,
    *,
    channel: str | None,
    due_before: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ReviewView]:
    return await repository.list_open(
        await uow.connection(), channel=channel, due_before=due_before, after=after, limit=limit
    )


async def list_decided(
    uow: UnitOfWork,
    *,
    state: ReviewState,
    channel: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ReviewView]:
    return await repository.list_decided(
        await uow.connection(), state=state, channel=channel, after=after, limit=limit
    )
