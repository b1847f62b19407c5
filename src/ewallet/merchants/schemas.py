"""Staff requests and responses for merchants; credentials appear only in creation answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountOut
from ewallet.kit.money import Money
from ewallet.kit.request_model import RequestModel
from ewallet.kit.urls import CallbackUrl
from ewallet.merchants.service import MAX_FEE_RATE_BP
from ewallet.merchants.views import ApiKeyView, MerchantView

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
Category = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
FeeRate = Annotated[int, Field(strict=True, ge=0, le=MAX_FEE_RATE_BP, description="basis points")]
FeeMinimum = Annotated[
    str, Field(pattern=r"^[0-9]{1,6}(\.[0-9]{1,2})?$", description='CNY, e.g. "0.10"')
]
NULLABLE = frozenset({"webhook_url", "fee_rate_bp", "fee_minimum"})


class MerchantCreateIn(RequestModel):
    name: Name
    category: Category = "general"
    accepts_wallet: bool = True
    webhook_url: CallbackUrl | None = None


class MerchantUpdateIn(RequestModel):
    """Only the fields present are changed; ``webhook_url: null`` removes the default URL,
    ``fee_rate_bp: null`` / ``fee_minimum: null`` put the merchant back on the configured
    default fee terms. ``fee_minimum`` is a CNY amount (``"0.10"``; ``"0"``: no minimum)."""

    name: Name | None = None
    category: Category | None = None
    status: Literal["active", "disabled"] | None = None
    accepts_wallet: bool | None = None
    webhook_url: CallbackUrl | None = None
    fee_rate_bp: FeeRate | None = None
    fee_minimum: FeeMinimum | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent, as the service takes them (``fee_minimum`` in fen). A null
        removes the webhook URL or a fee override; elsewhere it means "leave as is"."""
        sent = self.model_dump(exclude_unset=True)
        changes = {k: v for k, v in sent.items() if v is not None or k in NULLABLE}
        if changes.get("fee_minimum") is not None:
            changes["fee_minimum"] = fen_of(changes["fee_minimum"])
        return changes


def fen_of(amount: str) -> int:
    """A plain CNY amount string (the schema's pattern) in fen."""
    whole, _, part = amount.partition(".")
    return int(whole) * 100 + int(part.ljust(2, "0"))


class MerchantOut(BaseModel):
    id: str
    name: str
    category: str
    status: str
    accepts_wallet: bool
    webhook_url: str | None
    fee_rate_bp: int | None = Field(description="the merchant's own fee rate; null: default")
    fee_minimum: AmountOut | None = Field(description="its own minimum fee; null: default")
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
            fee_rate_bp=view.fee_rate_bp,
            fee_minimum=None if view.fee_minimum is None else AmountOut.of(Money(view.fee_minimum)),
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
    """Every key that was active is revoked; this new one is shown once."""

    api_key: str


class ApiKeyOut(BaseModel):
    """One API key: its public id and facts, never its secret part."""

    id: str = Field(description="the key's public part (16 hex characters)")
    label: str
    prefix: str = Field(description='how the key begins: "mk_<id>_…"')
    created_at: datetime
    last_used_on: date | None = Field(description="the last Asia/Shanghai day it was used")
    revoked_at: datetime | None

    @classmethod
    def of(cls, view: ApiKeyView) -> ApiKeyOut:
        return cls(
            id=view.id,
            label=view.label,
            prefix=view.prefix,
            created_at=view.created_at,
            last_used_on=view.last_used_on,
            revoked_at=view.revoked_at,
        )


class StaffApiKeyOut(ApiKeyOut):
    created_by: str = Field(description="who made it: <actor type>:<actor id>")
    revoked_by: str | None

    @classmethod
    def of(cls, view: ApiKeyView) -> StaffApiKeyOut:
        return cls(
            **ApiKeyOut.of(view).model_dump(),
            created_by=view.created_by,
            revoked_by=view.revoked_by,
        )


class StaffApiKeyList(BaseModel):
    """Active keys first (newest first), then keys revoked in the last 90 days."""

    data: list[StaffApiKeyOut]
