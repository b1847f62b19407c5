"""Call-back and phone-call requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from ewallet.callbacks.views import CallbackView
from ewallet.kit.phone import mask_phone
from ewallet.kit.request_model import RequestModel


class CallbackIn(RequestModel):
    preferred_from: AwareDatetime
    preferred_to: AwareDatetime
    topic: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=32, description="default: the account's phone")


class CallbackOut(BaseModel):
    id: str
    phone: str = Field(description="masked for the customer, in full for agents")
    topic: str
    preferred_from: datetime
    preferred_to: datetime
    status: Literal["requested", "done", "cancelled"]
    outcome: str | None
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, view: CallbackView, *, full_phone: bool = False) -> CallbackOut:
        return cls(
            id=view.id,
            phone=view.phone if full_phone else mask_phone(view.phone),
            topic=view.topic,
            preferred_from=view.preferred_from,
            preferred_to=view.preferred_to,
            status=view.status,
            outcome=view.outcome,
            created_at=view.created_at,
            closed_at=view.closed_at,
        )


class StaffCallbackOut(CallbackOut):
    user_id: str
    handled_by: str | None

    @classmethod
    def staff(cls, view: CallbackView, *, full_phone: bool = True) -> StaffCallbackOut:
        return cls(
            **CallbackOut.of(view, full_phone=full_phone).model_dump(),
            user_id=view.user_id,
            handled_by=view.handled_by,
        )


class CallbackEnvelope(BaseModel):
    callback: CallbackOut


class CallbackList(BaseModel):
    items: list[CallbackOut]
    next_cursor: str | None = None


class StaffCallbackList(BaseModel):
    items: list[StaffCallbackOut]
    next_cursor: str | None = None


class CallbackDoneIn(RequestModel):
    outcome: str = Field(min_length=1, max_length=500)


class PhoneCallIn(RequestModel):
    phone: str = Field(max_length=32)
    summary: str = Field(min_length=1, max_length=4000)
    category: str | None = Field(None, max_length=12)
    outcome: Literal["resolved", "follow_up", "escalated"]


class PhoneCallOut(BaseModel):
    ticket_id: str
    user_id: str | None
