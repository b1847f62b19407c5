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

from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import RateLimitedError
from ewallet.services import Services
from ewallet.support import repository as repo
from ewallet.support.policy import SupportPolicy

DAY: Final = timedelta(hours=24)
# Open tickets close when an agent resolves one: no exact time to give, so a hint.
OPEN_CAP_RETRY_SECONDS: Final = 3600


async def reserve_customer_ticket(services: Services, uow: UnitOfWork, *, user_id: str) -> None:
    """Refuse (``rate_limited``) when ``user_id`` may not open another ticket now.

    Refusals, in order: too many open tickets (``Retry-After`` an hour), too many new
    tickets in the last 24 hours (``Retry-After`` until the oldest of them leaves the day).
    """
    policy = SupportPolicy.of(services)
    await repo.lock_customer(uow.session, user_id)
    if await repo.open_ticket_count(uow.session, user_id) >= policy.customer_open_tickets_max:
        raise RateLimitedError(
            f"at most {policy.customer_open_tickets_max} open tickets at a time; "
            "write on one of them instead",
            retry_after=OPEN_CAP_RETRY_SECONDS,
        )
    now = services.clock.now()
    recent = await repo.recent_ticket_times(
        uow.session, user_id, since=now - DAY, limit=policy.customer_tickets_per_day
    )
    if len(recent) >= policy.customer_tickets_per_day:
        # The oldest of the last N leaves the rolling day first.
        wait = (recent[-1] + DAY - now).total_seconds()
        raise RateLimitedError(
            f"at most {policy.customer_tickets_per_day} new tickets in 24 hours",
            retry_after=max(1, math.ceil(wait)),
        )
