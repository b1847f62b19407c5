"""Requests and answers of ``/v1/merchant/stores``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.kit.request_model import RequestModel
from ewallet.merchants.stores.views import StoreView


class StoreIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    address: str | None = Field(default=None, max_length=200)


class StoreOut(BaseModel):
    id: str
    name: str
    address: str | None
    status: str
    created_at: datetime

    @classmethod
    def of(cls, view: StoreView) -> StoreOut:
        return cls(
            id=view.id,
            name=view.name,
            address=view.address,
            status=view.status,
            created_at=view.created_at,
        )


class StoreEnvelope(BaseModel):
    store: StoreOut


class StoreList(BaseModel):
    items: list[StoreOut]
