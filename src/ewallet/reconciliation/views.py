"""What the reconciliation services hand back: a run and the items it found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row


@dataclass(frozen=True, slots=True)
class RunView:
    id: str
    business_day: str
    status: str
    started_by: str
    counts: dict[str, Any]
    notes: list[Any]
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: Row[Any]) -> RunView:
        return cls(
            id=row.id,
            business_day=row.business_day,
            status=row.status,
            started_by=row.started_by,
            counts=dict(row.counts),
            notes=list(row.notes),
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


@dataclass(frozen=True, slots=True)
class ItemView:
    """A stored finding of a run (amounts in minor units of ``currency``)."""

    id: str
    run_id: str
    source: str
    reference: str
    category: str
    needs_action: bool
    wallet_amount: int | None
    external_amount: int | None
    currency: str
    detail: str
    created_at: datetime

    @classmethod
    def of(cls, row: Row[Any]) -> ItemView:
        return cls(
            id=row.id,
            run_id=row.run_id,
            source=row.source,
            reference=row.reference,
            category=row.category,
            needs_action=bool(row.needs_action),
            wallet_amount=row.wallet_amount,
            external_amount=row.external_amount,
            currency=row.currency,
            detail=row.detail,
            created_at=row.created_at,
        )
