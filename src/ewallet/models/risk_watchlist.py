"""The watch list: its entries, its loads and the screening hits (docs/risk-watchlist.md).

Entries come from CSV files loaded by ``ewallet watchlist load``; each load is one
``watchlist_loads`` row whose ``version`` is one more than the last load's, so a process
that holds the list in memory sees a change with one indexed ``max(version)`` read. An
entry keeps the name as given and its normalised forms (the simplified Han form and the
tone-less pinyin keys), so the in-memory index is built without recomputing them; an ID
number is kept only as its keyed digest.

A hit records one match of a screened name against an entry, with a copy of what it
matched (list and entry name): ``--replace`` deletes the entries of a list, and a hit must
stay explainable after that. The screened name is encrypted (it is a customer's real
name) and kept masked for the staff API.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class LoadMode(StrEnum):
    APPEND = "append"  # the file's entries are added to the list
    REPLACE = "replace"  # the list's entries are swapped for the file's


class HitContext(StrEnum):
    """Where a name was screened."""

    REALNAME = "realname"  # real-name verification of the account's owner
    TRANSFER = "transfer"  # a transfer's payee (the decision engine asks)


class HitState(StrEnum):
    OPEN = "open"  # waiting for a risk officer
    CLEARED = "cleared"  # not the listed person (a false positive)
    CONFIRMED = "confirmed"  # the listed person


class MatchBasis(StrEnum):
    """Why a name matched an entry (shown to the reviewer)."""

    ID_NUMBER = "id_number"  # the same ID number (keyed digests equal)
    HAN = "han"  # the same Chinese characters once simplified
    PINYIN = "pinyin"  # the same tone-less pinyin (or Latin spelling)
    FUZZY = "fuzzy"  # similar enough: the score reached the threshold


class WatchlistLoad(Base):
    __tablename__ = "watchlist_loads"
    __table_args__ = (
        CheckConstraint("mode IN ('append', 'replace')", name="mode_known"),
        Index("ix_watchlist_loads_loaded_at_id", "loaded_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    list_name: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(8))
    entries_added: Mapped[int] = mapped_column(Integer)
    entries_removed: Mapped[int] = mapped_column(Integer)
    loaded_by: Mapped[str] = mapped_column(String(80))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WatchlistEntry(Base):
    __tablename__ = "watchlist_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    list_name: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_han: Mapped[str | None] = mapped_column(String(200))
    name_keys: Mapped[str] = mapped_column(String(1000))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    id_number_digest: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    reason: Mapped[str | None] = mapped_column(String(500))
    batch_id: Mapped[str] = mapped_column(String(32), ForeignKey("watchlist_loads.id"), index=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WatchlistHit(Base):
    __tablename__ = "watchlist_hits"
    __table_args__ = (
        CheckConstraint("context IN ('realname', 'transfer')", name="context_known"),
        CheckConstraint("state IN ('open', 'cleared', 'confirmed')", name="state_known"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        Index("ix_watchlist_hits_state_created_at", "state", "created_at"),
        Index("ix_watchlist_hits_subject", "subject_type", "subject_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(120))
    context: Mapped[str] = mapped_column(String(16))
    screened_name_encrypted: Mapped[str] = mapped_column(Text)
    screened_name_masked: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[str] = mapped_column(String(32))
    list_name: Mapped[str] = mapped_column(String(32))
    entry_name: Mapped[str] = mapped_column(String(200))
    score: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(10), default=HitState.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))
