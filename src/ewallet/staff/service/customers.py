"""Staff freezing and unfreezing customers' accounts.

The account rules live in :mod:`ewallet.identity.protection.service` (one implementation for the
owner's own freeze, risk control and staff): a freeze signs out every device of the
customer and tells them; an unfreeze is for staff only, after they checked who is asking
(outside the system; the reason is recorded). This module is the staff side: the caller's
role was checked by the endpoint's dependency, the staff member is the audit actor, and
each change is one transaction. Refusals change nothing.
"""

from __future__ import annotations

from ewallet.identity.protection import service as protection
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.identity import UserStatus
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.views import CustomerState


async def freeze_customer(
    services: Services, principal: StaffPrincipal, *, user_id: str, reason: str
) -> CustomerState:
    """Freeze a customer's account for the staff member (frozen by ``staff:<id>``).

    Refusals: ``404 not_found``; ``409 account_frozen`` (already frozen, or closed).
    Locks the user row (:func:`ewallet.identity.protection.service.freeze_user`).
    """

    async def work(uow: UnitOfWork) -> CustomerState:
        user = await protection.freeze_user(
            uow,
            clock=services.clock,
            user_id=user_id,
            frozen_by=f"staff:{principal.staff_id}",
            reason=reason,
            hotline=services.settings.hotline,
            actor=principal.actor(),
        )
        return CustomerState(
            user.id, user.status, user.frozen_at, user.frozen_by, user.frozen_reason
        )

    return await run_unit(services.engine, work)


async def unfreeze_customer(
    services: Services, principal: StaffPrincipal, *, user_id: str, reason: str
) -> CustomerState:
    """Lift a freeze, whoever set it (the staff member is audited with the reason).

    Refusals: ``404 not_found``; ``409 account_not_frozen`` (an active account).
    Locks the user row (:func:`ewallet.identity.protection.service.unfreeze_user`).
    """

    async def work(uow: UnitOfWork) -> CustomerState:
        await protection.unfreeze_user(
            uow,
            clock=services.clock,
            user_id=user_id,
            staff_id=principal.staff_id,
            reason=reason,
        )
        return CustomerState(user_id, UserStatus.ACTIVE, None, None, None)

    return await run_unit(services.engine, work)
