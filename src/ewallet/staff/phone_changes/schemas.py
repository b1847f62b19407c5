"""Bodies of ``/v1/staff/phone-changes``: staff see both numbers whole (their role may)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ewallet.identity.phone_change.views import PhoneChangeRequestView
from ewallet.kit.request_model import RequestModel
from ewallet.models.phone_change import PhoneChangeState


class DecisionNoteIn(RequestModel):
    note: Annotated[str, Field(min_length=1, max_length=500)]


class PhoneChangeOut(BaseModel):
    id: str
    user_id: str
    old_phone: str
    new_phone: str
    state: PhoneChangeState
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None

    @classmethod
    def of(cls, view: PhoneChangeRequestView) -> PhoneChangeOut:
        return cls(
            id=view.id,
            user_id=view.user_id,
            old_phone=view.old_phone,
            new_phone=view.new_phone,
            state=view.state,
            created_at=view.created_at,
            decided_at=view.decided_at,
            decided_by=view.decided_by,
            note=view.note,
        )


class PhoneChangeEnvelope(BaseModel):
    request: PhoneChangeOut


class PhoneChangePage(BaseModel):
    items: list[PhoneChangeOut]
    next_cursor: str | None
