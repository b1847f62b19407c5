"""One customer as an agent sees them: account, freeze state, recent money, tickets, chats.

Masking follows the staff conventions: the phone number in full for risk officers and
admins (they investigate and call back on it), masked (``138****5678``) for support agents;
name and ID number only ever masked (the clear values stay encrypted). Every look is
recorded (``support.customer_viewed``) in the same transaction as the read, so there is no
view without its audit event. Freezing and unfreezing go through the staff freeze service
(:mod:`ewallet.staff.users`), which records its own events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import record_event
from ewallet.callbacks.service import CallbackView, my_callbacks
from ewallet.chat import repository as chat_repo
from ewallet.chat.views import ChatView, view
from ewallet.history.transactions import HistoryEntry, HistoryFilter, list_transactions
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.phone import mask_phone
from ewallet.models.identity import User
from ewallet.models.support import SupportTicket
from ewallet.staff.principal import ADMIN, StaffPrincipal

FULL_PHONE_ROLES: Final = frozenset({"risk_officer", ADMIN})
RECENT: Final = 10


@dataclass(frozen=True, slots=True)
class TicketBrief:
    id: str
    reference: str
    subject: str
    channel: str
    category: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerContext:
    user_id: str
    status: str
    tier: int
    phone: str
    phone_masked: bool
    real_name: str | None
    id_number: str | None
    identity_verified: bool
    frozen_at: datetime | None
    frozen_by: str | None
    frozen_reason: str | None
    created_at: datetime
    transactions: list[HistoryEntry]
    tickets: list[TicketBrief]
    chats: list[ChatView]
    callbacks: list[CallbackView]


async def customer_context(
    engine: AsyncEngine, *, clock: Clock, principal: StaffPrincipal, user_id: str
) -> CustomerContext:
    full_phone = principal.role in FULL_PHONE_ROLES

    async def work(uow: UnitOfWork) -> CustomerContext:
        session = uow.session
        user = await session.get(User, user_id)
        if user is None:
            raise NotFoundError("no such customer")
        tickets = await session.execute(
            select(SupportTicket)
            .where(SupportTicket.user_id == user_id)
            .order_by(SupportTicket.created_at.desc(), SupportTicket.id.desc())
            .limit(RECENT)
        )
        chats = await chat_repo.chats_of(session, user_id, limit=RECENT)
        await record_event(
            await uow.connection(),
            clock=clock,
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
            tickets=[
                TicketBrief(
                    t.id, t.reference, t.subject, t.channel, t.category, t.status, t.created_at
                )
                for t in tickets.scalars()
            ],
            chats=[view(chat) for chat in chats],
            callbacks=[],
        )

    context = await run_unit(engine, work)
    # Read after the audited unit: history has its own read-only unit of work.
    page = await list_transactions(engine, user_id=user_id, flt=HistoryFilter(), limit=RECENT)
    callbacks = await my_callbacks(engine, user_id=user_id, limit=RECENT)
    return replace(context, transactions=page.items, callbacks=callbacks)
