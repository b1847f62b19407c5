"""What the store use cases return, and what other features read of a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from ewallet.models.static_qr import StoreStatus


@dataclass(frozen=True, slots=True)
class StoreView:
    id: str
    merchant_id: str
    name: str
    address: str | None
    status: str
    created_at: datetime

    @classmethod
    def of(cls, row: Row[Any]) -> StoreView:
        """From a ``merchant_stores`` row."""
        return cls(
            id=row.id,
            merchant_id=row.merchant_id,
            name=row.name,
            address=row.address,
            status=row.status,
            created_at=row.created_at,
        )

    @property
    def active(self) -> bool:
        return self.status == StoreStatus.ACTIVE
