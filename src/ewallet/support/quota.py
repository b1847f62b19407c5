"""How many tickets one customer may open: a cap on open tickets and on new ones per day.

A customer's own requests (``POST /v1/support/tickets``) go through
:func:`reserve_customer_ticket` in the same unit of work that opens the ticket. The
customer's ``users`` row is locked first (``FOR NO KEY UPDATE`` on PostgreSQL: the ticket's
foreign key only needs ``FOR KEY SHARE`` on it; SQLite's write lock already serialises), so
a burst of parallel requests gets exactly the allowance, never one more. A refusal is
``429 rate_limited`` with ``Retry-After`` and leaves nothing behind.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Final

from sqlalchemy import func, select

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import RateLimitedError
from ewallet.models.identity import User
from ewallet.models.support import SupportTicket
from ewallet.support.policy import SupportPolicy

OPEN_STATUSES: Final = ("new", "open", "pending_customer")
DAY: Final = timedelta(hours=24)
# Open tickets close when an agent resolves one: no exact time to give, so a hint.
OPEN_CAP_RETRY_SECONDS: Final = 3600


async def reserve_customer_ticket(
    uow: UnitOfWork, *, clock: Clock, policy: SupportPolicy, user_id: str
) -> None:
    """Refuse (``rate_limited``) when ``user_id`` may not open another ticket now."""
    session = uow.session
    await session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
    mine = SupportTicket.user_id == user_id
    open_now = await session.scalar(
        select(func.count())
        .select_from(SupportTicket)
        .where(mine, SupportTicket.status.in_(OPEN_STATUSES))
    )
    if int(open_now or 0) >= policy.customer_open_tickets_max:
        raise RateLimitedError(
            f"at most {policy.customer_open_tickets_max} open tickets at a time; "
            "write on one of them instead",
            retry_after=OPEN_CAP_RETRY_SECONDS,
        )
    now = clock.now()
    recent = (
        (
            await session.execute(
                select(SupportTicket.created_at)
                .where(mine, SupportTicket.created_at > now - DAY)
                .order_by(SupportTicket.created_at.desc())
                .limit(policy.customer_tickets_per_day)
            )
        )
        .scalars()
        .all()
    )
    if len(recent) >= policy.customer_tickets_per_day:
        # The oldest of the last N leaves the rolling day first.
        wait = (recent[-1] + DAY - now).total_seconds()
        raise RateLimitedError(
            f"at most {policy.customer_tickets_per_day} new tickets in 24 hours",
            retry_after=max(1, math.ceil(wait)),
        )
