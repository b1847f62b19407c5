"""Staff requests and responses for merchants; credentials appear only in creation answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ewallet.kit.request_model import RequestModel
from ewallet.kit.urls import CallbackUrl
from ewallet.merchants.views import MerchantView

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
Category = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]


class MerchantCreateIn(RequestModel):
    name: Name
    category: Category = "general"
    accepts_wallet: bool = True
    webhook_url: CallbackUrl | None = None


class MerchantUpdateIn(RequestModel):
    """Only the fields present are changed; ``webhook_url: null`` removes the default URL."""

    name: Name | None = None
    category: Category | None = None
    status: Literal["active", "disabled"] | None = None
    accepts_wallet: bool | None = None
    webhook_url: CallbackUrl | None = None


class MerchantOut(BaseModel):
    id: str
    name: str
    category: str
    status: str
    accepts_wallet: bool
    webhook_url: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: MerchantView) -> MerchantOut:
        return cls(
            id=view.id,
            name=view.name,
            category=view.category,
            status=view.status,
            accepts_wallet=view.accepts_wallet,
            webhook_url=view.webhook_url,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class MerchantEnvelope(BaseModel):
    merchant: MerchantOut


class MerchantPage(BaseModel):
    """``GET /v1/staff/merchants``: newest first, cursor-paginated."""

    items: list[MerchantOut]
    next_cursor: str | None


class MerchantCreatedOut(MerchantEnvelope):
    """Shown once: the API key and the webhook secret are not stored in clear."""

    api_key: str
    webhook_secret: str


class KeyRotatedOut(MerchantEnvelope):
    api_key: str
