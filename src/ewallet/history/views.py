"""What the history shows: entries of a wallet, the filter over them, monthly statements."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal

from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.money import Money
from ewallet.risk.limits import CHINA_TIME

Direction = Literal["in", "out"]
EntryStatus = Literal["succeeded", "pending", "reversed"]
MONTH: Final = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
# The type of a transfer to another person's card (docs/card-transfers.md): a withdrawal
# in the ledger, shown as its own type in the history, its filter and statements.
CARD_TRANSFER: Final = "card_transfer"


def entry_type(kind: str, metadata: dict[str, Any]) -> str:
    """What the history calls a ledger entry of ``kind``: the kind itself, except a
    withdrawal that pays another person's card (its metadata names ``card_transfer_id``)."""
    if kind == "withdrawal" and isinstance(metadata.get("card_transfer_id"), str):
        return CARD_TRANSFER
    return kind


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

    @classmethod
    def of_days(
        cls, type_: str | None = None, *, first: date | None = None, last: date | None = None
    ) -> HistoryFilter:
        """Entries of ``type_`` from the start of day ``first`` to the end of day ``last``
        (Asia/Shanghai days, both included); ``validation_error`` if ``last`` is before
        ``first``."""
        since = datetime.combine(first, time(), tzinfo=CHINA_TIME) if first else None
        until = (
            datetime.combine(last, time(), tzinfo=CHINA_TIME) + timedelta(days=1) if last else None
        )
        return cls(type=type_, since=since, until=until)


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

    @classmethod
    def of(cls, moment: datetime) -> Month:
        """The Asia/Shanghai month ``moment`` falls in."""
        local = moment.astimezone(CHINA_TIME)
        return cls(local.year, local.month)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def following(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def days(self) -> list[date]:
        """Every day of the month, in order."""
        first = date(self.year, self.month, 1)
        count = (self.end.date() - first).days
        return [first + timedelta(days=n) for n in range(count)]

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
    issuer: str  # the payment institution (EWALLET_ISSUER_NAME), on every page
    issued_at: datetime  # when this copy was made


StatementFormat = Literal["csv", "pdf"]


@dataclass(frozen=True, slots=True)
class StatementFile:
    """A statement rendered: the bytes, their media type and a file name for them."""

    content: bytes
    media_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class DayTotals:
    """Money out of and into a wallet on one Asia/Shanghai day."""

    day: date
    money_out: Money
    money_in: Money


@dataclass(frozen=True, slots=True)
class MonthSpending:
    """A month of a wallet summed up: each day's totals (every day of the month, in order),
    money out by entry type (largest first) and the month's totals. Posted movements only,
    as a statement counts them. ``complete``: the month has ended (its figures are final)."""

    month: Month
    currency: str
    days: list[DayTotals]
    out_by_type: list[tuple[str, Money]]
    total_out: Money
    total_in: Money
    count: int
    complete: bool
