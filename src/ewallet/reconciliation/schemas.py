"""Request and response bodies of the staff reconciliation API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from ewallet.kit.money import Money
from ewallet.kit.request_model import RequestModel
from ewallet.reconciliation.views import ItemView


class RunIn(RequestModel):
    date: dt.date = Field(description="The business day to reconcile (Beijing time)")


class RunOut(BaseModel):
    id: str
    business_day: str
    status: str
    started_by: str
    counts: dict[str, Any]
    notes: list[Any]
    started_at: dt.datetime
    finished_at: dt.datetime | None


class RunList(BaseModel):
    items: list[RunOut]


class ItemOut(BaseModel):
    id: str
    source: str
    reference: str
    category: str
    needs_action: bool
    wallet_amount: str | None
    external_amount: str | None
    currency: str
    detail: str

    @classmethod
    def of(cls, row: ItemView) -> ItemOut:
        def amount(minor: int | None) -> str | None:
            return None if minor is None else Money(minor, row.currency).to_decimal_string()

        return cls(
            id=row.id,
            source=row.source,
            reference=row.reference,
            category=row.category,
            needs_action=row.needs_action,
            wallet_amount=amount(row.wallet_amount),
            external_amount=amount(row.external_amount),
            currency=row.currency,
            detail=row.detail,
        )


class RunDetail(BaseModel):
    run: RunOut
    items: list[ItemOut]
