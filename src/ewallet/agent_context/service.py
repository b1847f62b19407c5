"""One customer as an agent sees them: account, freeze state, recent money, tickets, chats.

Masking follows the staff conventions: the phone number in full for risk officers and
admins (they investigate and call back on it), masked (``138****5678``) for support agents;
name and ID number only ever masked (the clear values stay encrypted). Every look is
recorded (``support.customer_viewed``) in the same transaction as the read, so there is no
view without its audit event. Freezing and unfreezing go through the staff freeze service
(:mod:`ewallet.staff.service.customers`), which records its own events, and answer with the
refreshed view (itself recorded as a look).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from ewallet.agent_context import repository as repo
from ewallet.agent_context.views import CustomerContext
from ewallet.audit.service import record_event
from ewallet.callbacks.service import my_callbacks
from ewallet.chat.views import view
from ewallet.history.service import list_transactions
from ewallet.history.views import HistoryFilter
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.phone import mask_phone
from ewallet.models.operations import StaffRole
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service import customers

FULL_PHONE_ROLES: Final = frozenset({StaffRole.RISK_OFFICER, StaffRole.ADMIN})
RECENT: Final = 10


async def customer_context(
    services: Services, principal: StaffPrincipal, *, user_id: str
) -> CustomerContext:
    """The customer's account, freeze state, and their ten most recent transactions,
    tickets, chats and call-backs, masked for ``principal``'s role; the look is audited.

    Refusals: ``404 not_found`` (no such customer; nothing recorded). The account, tickets,
    chats and the audit event are one unit; transactions and call-backs are read after it
    in read-only units of their own features.
    """
    full_phone = principal.role in FULL_PHONE_ROLES

    async def work(uow: UnitOfWork) -> CustomerContext:
        session = uow.session
        user = await repo.customer(session, user_id)
        if user is None:
            raise NotFoundError("no such customer")
        tickets = await repo.recent_tickets(session, user_id, limit=RECENT)
        chats = await repo.recent_chats(session, user_id, limit=RECENT)
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=principal.actor(),
            action="support.customer_viewed",
            subject_type="user",
            subject_id=user_id,
            details={"role": principal.role, "phone_in_full": full_phone},
        )
        return CustomerContext(
            user_id=user.id,
            status=user.status,
            tier=user.tier,
            phone=user.phone if full_phone else mask_phone(user.phone),
            phone_masked=not full_phone,
            real_name=user.real_name_masked,
            id_number=user.id_number_masked,
            identity_verified=user.identity_verified_at is not None,
            frozen_at=user.frozen_at,
            frozen_by=user.frozen_by,
            frozen_reason=user.frozen_reason,
            created_at=user.created_at,
            transactions=[],
            tickets=tickets,
            chats=[view(chat) for chat in chats],
            callbacks=[],
        )

    context = await run_unit(services.engine, work)
    # Read after the audited unit: history has its own read-only unit of work.
    page = await list_transactions(services, user_id, flt=HistoryFilter(), limit=RECENT)
    callbacks = await my_callbacks(services, user_id, limit=RECENT)
    return replace(context, transactions=page.items, callbacks=callbacks)


async def freeze_customer(
    services: Services, principal: StaffPrincipal, *, user_id: str, reason: str
) -> CustomerContext:
    """Freeze the customer's account (the staff freeze: same rules, same audit events),
    then the refreshed view. Refusals: those of
    :func:`ewallet.staff.service.customers.freeze_customer`."""
    await customers.freeze_customer(services, principal, user_id=user_id, reason=reason)
    return await customer_context(services, principal, user_id=user_id)


async def unfreeze_customer(
    services: Services, principal: StaffPrincipal, *, user_id: str, reason: str
) -> CustomerContext:
    """Lift the freeze (the staff unfreeze), then the refreshed view. Refusals: those of
    :func:`ewallet.staff.service.customers.unfreeze_customer`."""
    await customers.unfreeze_customer(services, principal, user_id=user_id, reason=reason)
    return await customer_context(services, principal, user_id=user_id)
