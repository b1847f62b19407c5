"""Staff freezing and unfreezing customer accounts.

The account rules live in :mod:`ewallet.identity.protection` (one implementation for the
owner's own freeze, risk control and staff): a freeze signs out every device of the
customer and tells them; an unfreeze is for staff only, after they checked who is asking
(outside the system; the reason is recorded). This module is the staff side: the caller's
role was checked by the endpoint, the staff member is the audit actor, and each change is
one transaction. Refusals (``account_frozen`` for a frozen or closed account,
``account_not_frozen`` for an active one, ``not_found``) change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.identity import protection
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.staff.principal import StaffPrincipal


@dataclass(frozen=True, slots=True)
class UserState:
    id: str
    status: str
    frozen_at: datetime | None
    frozen_by: str | None
    frozen_reason: str | None


async def freeze_user(
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    principal: StaffPrincipal,
    user_id: str,
    reason: str,
) -> UserState:
    async def work(uow: UnitOfWork) -> UserState:
        user = await protection.freeze_user(
            uow,
            clock=clock,
            user_id=user_id,
            frozen_by=f"staff:{principal.staff_id}",
            reason=reason,
            hotline=settings.hotline,
            actor=principal.actor(),
        )
        return UserState(user.id, user.status, user.frozen_at, user.frozen_by, user.frozen_reason)

    return await run_unit(engine, work)


async def unfreeze_user(
    engine: AsyncEngine, *, clock: Clock, principal: StaffPrincipal, user_id: str, reason: str
) -> UserState:
    async def work(uow: UnitOfWork) -> UserState:
        await protection.unfreeze_user(
            uow, clock=clock, user_id=user_id, staff_id=principal.staff_id, reason=reason
        )
        return UserState(user_id, "active", None, None, None)

    return await run_unit(engine, work)
