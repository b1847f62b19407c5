"""Request and response bodies of the phone-change routes (owner and staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ewallet.identity.phone_change.views import PhoneChangeRequestView
from ewallet.identity.schemas import PhoneText, Secret, ShortCode, Strict
from ewallet.kit.phone import mask_phone
from ewallet.models.phone_change import PhoneChangeState

CodeField = Annotated[ShortCode, Field(description="A 6-digit SMS code.")]


class NewNumberCodeIn(Strict):
    new_phone: PhoneText


class PhoneChangeIn(Strict):
    new_phone: PhoneText
    old_phone_code: Annotated[
        ShortCode, Field(description="The `phone_change_old` code texted to the current number.")
    ]
    new_phone_code: Annotated[
        ShortCode, Field(description="The `change_phone` code texted to the new number.")
    ]
    payment_password: Secret


class PhoneChangedOut(BaseModel):
    phone: str = Field(description="The account's number from now on, masked.")
    changed_at: datetime


class PhoneChangeRequestIn(Strict):
    new_phone: PhoneText
    new_phone_code: CodeField
    real_name: Annotated[str, Field(min_length=1, max_length=64)]
    id_number: Annotated[str, Field(min_length=1, max_length=32)]


class PhoneChangeRequestOut(BaseModel):
    """A reviewed request as its owner sees it: numbers masked, no staff member named."""

    id: str
    old_phone: str
    new_phone: str
    state: PhoneChangeState
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, view: PhoneChangeRequestView) -> PhoneChangeRequestOut:
        return cls(
            id=view.id,
            old_phone=mask_phone(view.old_phone),
            new_phone=mask_phone(view.new_phone),
            state=view.state,
            created_at=view.created_at,
            decided_at=view.decided_at,
        )


class PhoneChangeRequestEnvelope(BaseModel):
    request: PhoneChangeRequestOut


class PhoneChangeRequestList(BaseModel):
    items: list[PhoneChangeRequestOut]
