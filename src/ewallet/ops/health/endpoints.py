"""``/v1/staff/funding/pending`` and ``/v1/staff/outbox`` (docs/operations.md).

Operators (and admins) read both and replay dead outbox events; risk officers may read
the unfinished money too, as they read reconciliation.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.ops.health import service
from ewallet.ops.health.schemas import (
    DeadEventsPage,
    OutboxEventEnvelope,
    OutboxEventOut,
    OutboxHealthOut,
    PendingFundingPage,
    TopicHealthOut,
)
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import OPERATIONS, RECONCILIATION_READING
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff", tags=["operations"])

Operator = Annotated[StaffPrincipal, Depends(require_permission(OPERATIONS))]
Reader = Annotated[StaffPrincipal, Depends(require_permission(RECONCILIATION_READING))]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/funding/pending",
    summary="Top-ups and withdrawals not final yet, oldest first (operators, risk officers)",
    description=(
        "Each with its age, where its money sits (suspense, a wallet hold) and what "
        "finishes it; `groups` counts every unfinished item, `suspense` is what the "
        "suspense accounts hold. The look is audited (`funding.pending_viewed`)."
    ),
)
async def get_pending_funding(
    *,
    staff: Reader,
    services: ServicesDep,
    kind: Literal["topup", "withdrawal"] | None = None,
    state: Literal["awaiting_payment", "pending", "processing"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PendingFundingPage:
    report = await service.pending_funding(
        services, staff, kind=kind, state=state, limit=limit, cursor=cursor
    )
    return PendingFundingPage.of(report)


@router.get(
    "/outbox",
    summary="The outbox by topic and state, and the dead events (operators)",
    description=(
        "Counts of undelivered events per topic: due, in flight, retrying, scheduled, "
        "dead. Dead events, newest first, show their topic, attempts, last error and the "
        "ids they name, never their payload."
    ),
)
async def get_outbox(
    *,
    staff: Operator,
    services: ServicesDep,
    topic: Annotated[str | None, Query(max_length=64, description="dead events of")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> OutboxHealthOut:
    health = await service.outbox_health(services, topic=topic, limit=limit, cursor=cursor)
    return OutboxHealthOut(
        topics=[TopicHealthOut.of(topic_health) for topic_health in health.topics],
        max_attempts=health.max_attempts,
        dead=DeadEventsPage(
            items=[OutboxEventOut.of(event) for event in health.dead],
            next_cursor=health.next_cursor,
        ),
    )


@router.post(
    "/outbox/{event_id}/replay",
    summary="Make a dead outbox event due again, attempts reset (operators)",
    description=(
        "Audited (`outbox.replayed`). An event that is not dead answers "
        "`409 outbox_event_not_dead` and is left as it was."
    ),
)
async def post_replay(
    event_id: Annotated[int, Path(ge=1, le=2**63 - 1)], staff: Operator, services: ServicesDep
) -> OutboxEventEnvelope:
    event = await service.replay_outbox_event(services, staff, event_id=event_id)
    return OutboxEventEnvelope(event=OutboxEventOut.of(event))
