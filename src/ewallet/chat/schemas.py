"""Chat responses (HTTP) and the JSON frames sent on the chat sockets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ewallet.chat.views import ChatView, MessageView
from ewallet.kit.request_model import RequestModel
from ewallet.support.presence.service import AgentPresence


class ArticleLink(BaseModel):
    id: str
    title: str
    url: str
    score: float


class ChatMessageOut(BaseModel):
    id: int
    sender: str = Field(description="customer, bot, agent or system")
    text: str
    articles: list[ArticleLink] | None = None
    created_at: datetime

    @classmethod
    def of(cls, line: MessageView) -> ChatMessageOut:
        articles = [ArticleLink(**a) for a in line.articles] if line.articles else None
        return cls(
            id=line.id,
            sender=line.sender,
            text=line.body,
            articles=articles,
            created_at=line.created_at,
        )


class ChatOut(BaseModel):
    id: str
    status: str = Field(description="bot, queued, active or closed")
    queue_position: int | None
    ticket_id: str | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    @classmethod
    def of(cls, chat: ChatView) -> ChatOut:
        return cls(
            id=chat.id,
            status=chat.status,
            queue_position=chat.queue_position,
            ticket_id=chat.ticket_id,
            created_at=chat.created_at,
            closed_at=chat.closed_at,
            closed_by=chat.closed_by,
        )


class ChatDetailOut(BaseModel):
    chat: ChatOut
    messages: list[ChatMessageOut]


class ChatListOut(BaseModel):
    items: list[ChatOut]
    next_cursor: str | None = None


class StaffChatOut(ChatOut):
    user_id: str
    agent_id: str | None
    preview: str | None = Field(None, description="the customer's last line")

    @classmethod
    def staff(cls, chat: ChatView) -> StaffChatOut:
        return cls(
            **ChatOut.of(chat).model_dump(),
            user_id=chat.user_id,
            agent_id=chat.agent_id,
            preview=chat.preview,
        )


class StaffChatDetailOut(BaseModel):
    chat: StaffChatOut
    messages: list[ChatMessageOut]


class StaffChatListOut(BaseModel):
    items: list[StaffChatOut]
    next_cursor: str | None = None


class AgentLineIn(RequestModel):
    text: str = Field(min_length=1, max_length=2000)


class HandoverIn(RequestModel):
    to_staff_id: str | None = Field(
        None,
        max_length=32,
        description="an agent online to pass the chat to; absent or null: back to the queue",
    )


# Socket frames: plain JSON-ready dicts.


def message_frame(line: MessageView, *, for_staff: bool) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "message", "chat_id": line.chat_id}
    frame.update(ChatMessageOut.of(line).model_dump(mode="json"))
    if for_staff:
        frame["sender_id"] = line.sender_id
    return frame


def chat_frame(kind: str, chat: ChatView, *, for_staff: bool) -> dict[str, Any]:
    body = StaffChatOut.staff(chat) if for_staff else ChatOut.of(chat)
    return {"type": kind, "chat": body.model_dump(mode="json")}


def error_frame(code: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail}


def presence_frame(agents: list[AgentPresence], *, away: bool) -> dict[str, Any]:
    """Who is connected to answer chats (``online`` or ``away``), and this agent's status."""
    return {
        "type": "presence",
        "status": "away" if away else "online",
        "agents": [
            {
                "staff_id": a.staff_id,
                "name": a.name,
                "status": "away" if a.away else "online",
            }
            for a in agents
        ],
    }
