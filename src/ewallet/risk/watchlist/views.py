"""What watch-list screening answers and what its staff API shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class WatchlistMatch:
    """One match found by a screening: the entry, how well and why it matched, and the
    ``watchlist_hits`` row recorded for it (None when only trying a name)."""

    entry_id: str
    list_name: str
    entry_name: str
    score: int
    basis: str
    hit_id: str | None = None


@dataclass(frozen=True, slots=True)
class WatchlistHitView:
    id: str
    subject_type: str
    subject_id: str
    context: str
    screened_name_masked: str
    entry_id: str
    list_name: str
    entry_name: str
    score: int
    basis: str
    state: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class WatchlistLoadView:
    id: str
    version: int
    list_name: str
    file_name: str
    mode: str
    entries_added: int
    entries_removed: int
    loaded_by: str
    loaded_at: datetime

    @property
    def created_at(self) -> datetime:
        """The list's order (newest first, :mod:`ewallet.kit.pagination`)."""
        return self.loaded_at


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One CSV row, checked (the ID number still in clear: it is digested before storing)."""

    line: int
    name: str
    date_of_birth: date | None
    id_number: str | None
    country: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load did: the list's new version, entries added and removed, the list's size."""

    load_id: str
    list_name: str
    version: int
    mode: str
    added: int
    removed: int
    total: int
