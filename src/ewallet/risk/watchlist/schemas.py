"""Request and answer shapes of the watch list's staff API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.kit.request_model import RequestModel
from ewallet.risk.watchlist.views import WatchlistHitView, WatchlistLoadView


class HitDecisionIn(RequestModel):
    note: str = Field(
        min_length=1, max_length=500, description="why: what the reviewer checked and found"
    )


class WatchlistHitOut(BaseModel):
    id: str
    subject_type: str = Field(description="`user` (real-name verification) or `transfer`")
    subject_id: str
    context: str = Field(description="`realname` or `transfer`")
    screened_name: str = Field(description="the screened name, masked (张*三, J*** S****)")
    entry_id: str
    list_name: str
    entry_name: str = Field(description="the listed name the screened name matched")
    score: int = Field(ge=0, le=100)
    basis: str = Field(description="`id_number`, `han`, `pinyin` or `fuzzy`")
    state: str = Field(description="`open`, `cleared` or `confirmed`")
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None

    @classmethod
    def of(cls, view: WatchlistHitView) -> WatchlistHitOut:
        return cls(
            id=view.id,
            subject_type=view.subject_type,
            subject_id=view.subject_id,
            context=view.context,
            screened_name=view.screened_name_masked,
            entry_id=view.entry_id,
            list_name=view.list_name,
            entry_name=view.entry_name,
            score=view.score,
            basis=view.basis,
            state=view.state,
            created_at=view.created_at,
            decided_by=view.decided_by,
            decided_at=view.decided_at,
            note=view.note,
        )


class WatchlistHitPage(BaseModel):
    """``GET /v1/staff/risk/watchlist/hits``: newest first, cursor-paginated."""

    items: list[WatchlistHitOut]
    next_cursor: str | None


class WatchlistLoadOut(BaseModel):
    id: str
    version: int = Field(description="the list's version after this load")
    list_name: str
    file_name: str
    mode: str = Field(description="`append` or `replace`")
    entries_added: int
    entries_removed: int
    loaded_by: str
    loaded_at: datetime

    @classmethod
    def of(cls, view: WatchlistLoadView) -> WatchlistLoadOut:
        return cls(
            id=view.id,
            version=view.version,
            list_name=view.list_name,
            file_name=view.file_name,
            mode=view.mode,
            entries_added=view.entries_added,
            entries_removed=view.entries_removed,
            loaded_by=view.loaded_by,
            loaded_at=view.loaded_at,
        )


class WatchlistLoadPage(BaseModel):
    """``GET /v1/staff/risk/watchlist/loads``: newest first, cursor-paginated."""

    items: list[WatchlistLoadOut]
    next_cursor: str | None
