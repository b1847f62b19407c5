"""What the history shows: entries of a wallet, the filter over them, monthly statements."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.money import Money
from ewallet.risk.limits import CHINA_TIME

Direction = Literal["in", "out"]
EntryStatus = Literal["succeeded", "pending", "reversed"]
MONTH: Final = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: str  # the ledger transaction's id, or the hold's while it is pending
    type: str
    direction: Direction
    amount: Money
    balance_after: Money | None  # None while pending: nothing has been posted yet
    counterparty: str | None
    status: EntryStatus
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    type: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        if self.since and self.until and self.since >= self.until:
            raise ValidationFailedError("'from' must be before 'to'")


@dataclass(frozen=True, slots=True)
class Month:
    """An Asia/Shanghai calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = MONTH.fullmatch(text)
        if match is None or not 2000 <= int(match.group(1)) <= 2999:
            raise ValidationFailedError("the month must look like 2026-03")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=CHINA_TIME)

    @property
    def end(self) -> datetime:
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=CHINA_TIME)
        return datetime(self.year, self.month + 1, 1, tzinfo=CHINA_TIME)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Statement:
    user_id: str
    holder_phone: str  # masked
    holder_name: str | None  # masked
    month: Month
    currency: str
    opening: Money
    closing: Money
    total_in: Money
    total_out: Money
    lines: list[HistoryEntry]


StatementFormat = Literal["csv", "pdf"]


@dataclass(frozen=True, slots=True)
class StatementFile:
    """A statement rendered: the bytes, their media type and a file name for them."""

    content: bytes
    media_type: str
    filename: str
