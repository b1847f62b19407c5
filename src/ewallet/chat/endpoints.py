"""HTTP around the chat: customers read their own chats; agents see the queue and take chats.

The conversation itself runs on the sockets (:mod:`ewallet.chat.sockets`); these routes are
what a page needs besides, and what an agent console without a socket can use. Changes are
published on the chat bus after their commit, so the sockets of every process see them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ewallet.chat import agent_side, customer_side
from ewallet.chat.bus import app_chat_bus
from ewallet.chat.schemas import (
    AgentLineIn,
    ChatDetailOut,
    ChatListOut,
    ChatMessageOut,
    ChatOut,
    StaffChatDetailOut,
    StaffChatListOut,
    StaffChatOut,
)
from ewallet.http.deps import ClockDep, EngineDep
from ewallet.identity.deps import CurrentUser
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.staff.deps import require_roles
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(tags=["online chat"])
Agent = Annotated[StaffPrincipal, Depends(require_roles("support_agent"))]


@router.get("/v1/support/chats", summary="The customer's own chats, newest first")
async def my_chats(
    user: CurrentUser,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
) -> ChatListOut:
    chats = await customer_side.customer_chats(engine, user_id=user.user_id, limit=limit)
    return ChatListOut(items=[ChatOut.of(chat) for chat in chats])


@router.get("/v1/support/chats/{chat_id}", summary="One of the customer's chats with its lines")
async def my_chat(chat_id: str, user: CurrentUser, engine: EngineDep) -> ChatDetailOut:
    chat, lines = await customer_side.customer_chat(engine, user_id=user.user_id, chat_id=chat_id)
    return ChatDetailOut(chat=ChatOut.of(chat), messages=[ChatMessageOut.of(m) for m in lines])


@router.get("/v1/staff/support/chats", summary="Chats waiting for an agent, first in line first")
async def waiting_chats(staff: Agent, engine: EngineDep) -> StaffChatListOut:
    return StaffChatListOut(items=[StaffChatOut.staff(c) for c in await agent_side.waiting(engine)])


@router.get("/v1/staff/support/chats/{chat_id}", summary="One chat with its lines (audit-logged)")
async def staff_chat(
    chat_id: str, staff: Agent, engine: EngineDep, clock: ClockDep
) -> StaffChatDetailOut:
    chat, lines = await agent_side.staff_chat(
        engine, clock=clock, actor=staff.actor(), chat_id=chat_id
    )
    return StaffChatDetailOut(
        chat=StaffChatOut.staff(chat), messages=[ChatMessageOut.of(m) for m in lines]
    )


@router.post("/v1/staff/support/chats/{chat_id}/take", summary="Take a waiting chat")
async def take_chat(
    chat_id: str, request: Request, staff: Agent, engine: EngineDep, clock: ClockDep
) -> StaffChatOut:
    outcome = await agent_side.take(engine, clock=clock, actor=staff.actor(), chat_id=chat_id)
    await app_chat_bus(request.app).publish(outcome.topics)
    return StaffChatOut.staff(outcome.chat)


@router.post(
    "/v1/staff/support/chats/{chat_id}/messages",
    status_code=201,
    summary="Write to the customer in a chat the agent has taken",
)
async def agent_line(
    *,
    chat_id: str,
    body: AgentLineIn,
    request: Request,
    staff: Agent,
    engine: EngineDep,
    clock: ClockDep,
) -> StaffChatOut:
    outcome = await agent_side.agent_says(
        engine, clock=clock, staff_id=staff.staff_id, chat_id=chat_id, text=body.text
    )
    await app_chat_bus(request.app).publish(outcome.topics)
    return StaffChatOut.staff(outcome.chat)


@router.post("/v1/staff/support/chats/{chat_id}/end", summary="End a chat the agent has taken")
async def end_chat(
    chat_id: str, request: Request, staff: Agent, engine: EngineDep, clock: ClockDep
) -> StaffChatOut:
    outcome = await agent_side.agent_ends(engine, clock=clock, actor=staff.actor(), chat_id=chat_id)
    await app_chat_bus(request.app).publish(outcome.topics)
    return StaffChatOut.staff(outcome.chat)
