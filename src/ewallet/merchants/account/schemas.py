"""Requests and responses of the merchant's self-service routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.kit.request_model import RequestModel
from ewallet.merchants.schemas import ApiKeyOut
from ewallet.merchants.service import MAX_LABEL
from ewallet.merchants.views import ApiKeyView, MerchantView


class AccountOut(BaseModel):
    """The merchant's own record: no API key, no webhook secret (they are shown once)."""

    id: str
    name: str
    category: str
    status: str
    accepts_wallet: bool
    webhook_url: str | None
    api_key: str = Field(description="always masked: the key is shown once, when issued")
    webhook_secret: str = Field(description="always masked")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: MerchantView) -> AccountOut:
        return cls(
            id=view.id,
            name=view.name,
            category=view.category,
            status=view.status,
            accepts_wallet=view.accepts_wallet,
            webhook_url=view.webhook_url,
            api_key="mk_****",
            webhook_secret="whsec_****",  # noqa: S106 -- a mask, not a secret
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class AccountEnvelope(BaseModel):
    account: AccountOut


class WebhookIn(RequestModel):
    url: str | None = Field(max_length=2000, description="an absolute http(s) URL; null clears it")


class MerchantKeyOut(ApiKeyOut):
    current: bool = Field(description="the key this request came with")

    @classmethod
    def mine(cls, view: ApiKeyView, calling_key: str | None) -> MerchantKeyOut:
        return cls(**ApiKeyOut.of(view).model_dump(), current=view.id == calling_key)


class KeyListOut(BaseModel):
    """Active keys first (newest first), then keys revoked in the last 90 days."""

    data: list[MerchantKeyOut]


class KeyIn(RequestModel):
    label: str = Field(
        default="default",
        min_length=1,
        max_length=200,
        description=f"1 to {MAX_LABEL} characters once trimmed",
    )


class NewKeyOut(BaseModel):
    api_key: str = Field(description="the new key, shown this once")
    key: MerchantKeyOut


class RotatedKeyOut(BaseModel):
    api_key: str = Field(description="the new key, shown this once; the calling key stops now")
    key: MerchantKeyOut = Field(description="the new key's facts (same label as the old one)")
    account: AccountOut
