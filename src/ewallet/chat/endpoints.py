"""HTTP around the chat: customers read their own chats; agents see the queue and take chats.

The conversation itself runs on the sockets (:mod:`ewallet.chat.sockets`); these routes are
what a page needs besides, and what an agent console without a socket can use. Each route
makes one call to :mod:`ewallet.chat.service`; changes are published on the chat bus after
their commit, so the sockets of every process see them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ewallet.chat.deps import ChatBusDep
from ewallet.chat.schemas import (
    AgentLineIn,
    ChatDetailOut,
    ChatListOut,
    ChatMessageOut,
    ChatOut,
    HandoverIn,
    StaffChatDetailOut,
    StaffChatListOut,
    StaffChatOut,
)
from ewallet.chat.service import agent, customer
from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import SUPPORT
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(tags=["online chat"])
Agent = Annotated[StaffPrincipal, Depends(require_permission(SUPPORT))]


@router.get("/v1/support/chats", summary="The customer's own chats, newest first")
async def my_chats(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
) -> ChatListOut:
    chats = await customer.customer_chats(services, user.user_id, limit=limit)
    return ChatListOut(items=[ChatOut.of(chat) for chat in chats])


@router.get("/v1/support/chats/{chat_id}", summary="One of the customer's chats with its lines")
async def my_chat(chat_id: str, user: CurrentUser, services: ServicesDep) -> ChatDetailOut:
    chat, lines = await customer.customer_chat(services, user.user_id, chat_id=chat_id)
    return ChatDetailOut(chat=ChatOut.of(chat), messages=[ChatMessageOut.of(m) for m in lines])


@router.get("/v1/staff/support/chats", summary="Chats waiting for an agent, first in line first")
async def waiting_chats(staff: Agent, services: ServicesDep) -> StaffChatListOut:
    return StaffChatListOut(items=[StaffChatOut.staff(c) for c in await agent.waiting(services)])


@router.get("/v1/staff/support/chats/{chat_id}", summary="One chat with its lines (audit-logged)")
async def staff_chat(chat_id: str, staff: Agent, services: ServicesDep) -> StaffChatDetailOut:
    chat, lines = await agent.staff_chat(services, staff.actor(), chat_id=chat_id)
    return StaffChatDetailOut(
        chat=StaffChatOut.staff(chat), messages=[ChatMessageOut.of(m) for m in lines]
    )


@router.post("/v1/staff/support/chats/{chat_id}/take", summary="Take a waiting chat")
async def take_chat(
    chat_id: str, staff: Agent, services: ServicesDep, bus: ChatBusDep
) -> StaffChatOut:
    outcome = await agent.take(services, staff.actor(), chat_id=chat_id)
    await bus.publish(outcome.topics)
    return StaffChatOut.staff(outcome.chat)


@router.post(
    "/v1/staff/support/chats/{chat_id}/messages",
    status_code=201,
    summary="Write to the customer in a chat the agent has taken",
)
async def agent_line(
    chat_id: str, body: AgentLineIn, staff: Agent, services: ServicesDep, bus: ChatBusDep
) -> StaffChatOut:
    outcome = await agent.agent_says(services, staff.actor(), chat_id=chat_id, text=body.text)
    await bus.publish(outcome.topics)
    return StaffChatOut.staff(outcome.chat)


@router.post(
    "/v1/staff/support/chats/{chat_id}/handover",
    summary="Pass a chat the agent holds to another agent online, or back to the queue",
)
async def hand_over(
    chat_id: str, body: HandoverIn, staff: Agent, services: ServicesDep, bus: ChatBusDep
) -> StaffChatOut:
    outcome = await agent.hand_over(
        services, staff.actor(), chat_id=chat_id, to_staff_id=body.to_staff_id
    )
    await bus.publish(outcome.topics)
    return StaffChatOut.staff(outcome.chat)


@router.post("/v1/staff/support/chats/{chat_id}/end", summary="End a chat the agent has taken")
async def end_chat(
    chat_id: str, staff: Agent, services: ServicesDep, bus: ChatBusDep
) -> StaffChatOut:
    outcome = await agent.agent_ends(services, staff.actor(), chat_id=chat_id)
    await bus.publish(outcome.topics)
    return StaffChatOut.staff(outcome.chat)
