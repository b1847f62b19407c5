"""Response bodies of the data-copy routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ewallet.identity.data_copy.views import DataCopyView


class DataCopyOut(BaseModel):
    id: str
    status: str
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime

    @classmethod
    def of(cls, view: DataCopyView) -> DataCopyOut:
        return cls(
            id=view.id,
            status=view.status,
            requested_at=view.requested_at,
            ready_at=view.ready_at,
            expires_at=view.expires_at,
        )


class DataCopyListOut(BaseModel):
    items: list[DataCopyOut]
    next_cursor: str | None = None
