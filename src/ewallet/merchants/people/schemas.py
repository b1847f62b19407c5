"""Staff requests and answers for merchant people; the one-time password appears only in
the creation answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ewallet.kit.request_model import RequestModel
from ewallet.merchants.people.views import MerchantUserView


class MerchantUserCreateIn(RequestModel):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"\S")]
    role: Literal["owner", "manager", "cashier"]


class MerchantUserOut(BaseModel):
    id: str
    merchant_id: str
    email: str
    name: str
    role: str
    status: str
    must_change_password: bool
    totp_enrolled: bool
    created_at: datetime
    last_sign_in_at: datetime | None

    @classmethod
    def of(cls, view: MerchantUserView) -> MerchantUserOut:
        return cls(
            id=view.id,
            merchant_id=view.merchant_id,
            email=view.email,
            name=view.name,
            role=view.role,
            status=view.status,
            must_change_password=view.must_change_password,
            totp_enrolled=view.totp_enrolled,
            created_at=view.created_at,
            last_sign_in_at=view.last_sign_in_at,
        )


class MerchantUserCreatedOut(BaseModel):
    user: MerchantUserOut
    one_time_password: str


class MerchantUserList(BaseModel):
    items: list[MerchantUserOut]
