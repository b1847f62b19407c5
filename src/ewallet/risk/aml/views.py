"""What the AML report use cases return: candidates, the day's movements behind them, the
day's report with the identities it needs, and an exported file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from ewallet.kit.money import Money
from ewallet.models.aml import AmlKind
from ewallet.risk.aml.deadlines import add_working_days
from ewallet.risk.limits import CHINA_TIME

# The only identity document real-name verification accepts (identity/realname).
RESIDENT_ID: Final = "resident_id"  # 居民身份证


@dataclass(frozen=True, slots=True)
class Movement:
    """One money movement of a customer's day, as a large-value report row shows it.

    ``counterparty_name`` is what the rule needs to identify the other side and no more:
    another customer's masked name, a merchant's registered name, a bank with a card's or
    account's last four digits, a branch code.
    """

    reference: str  # "transfer:<id>", "counter_deposit:<id>", ...
    subject_id: str
    occurred_at: datetime
    amount: Money
    direction: str  # "in" | "out", seen from the subject
    channel: str
    counterparty_type: str
    counterparty_id: str | None
    counterparty_name: str | None


@dataclass(frozen=True, slots=True)
class CandidateView:
    id: str
    kind: str  # AmlKind
    category: str
    subject_type: str  # SubjectType
    subject_id: str
    business_day: date
    amount: Money
    transaction_count: int
    transaction_refs: tuple[str, ...]
    reason: str
    rule_name: str | None
    state: str  # CandidateState
    created_at: datetime
    updated_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None

    @property
    def due_date(self) -> date:
        """Large-value: five working days after the transaction day. Suspicious: five
        working days after the candidate was identified (the rules say "promptly")."""
        if self.kind == AmlKind.LARGE_VALUE:
            return add_working_days(self.business_day)
        return add_working_days(self.created_at.astimezone(CHINA_TIME).date())

    @classmethod
    def of(cls, row: Any) -> CandidateView:
        return cls(
            id=row.id,
            kind=row.kind,
            category=row.category,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            business_day=date.fromisoformat(row.business_day),
            amount=Money(int(row.amount), row.currency),
            transaction_count=int(row.transaction_count),
            transaction_refs=tuple(row.transaction_refs or ()),
            reason=row.reason,
            rule_name=row.rule_name,
            state=row.state,
            created_at=row.created_at,
            updated_at=row.updated_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            note=row.note,
        )


@dataclass(frozen=True, slots=True)
class LargeValueGroup:
    """A subject whose day in one category reached the threshold, with its movements."""

    category: str
    subject_type: str
    subject_id: str
    total: Money
    movements: tuple[Movement, ...]


@dataclass(frozen=True, slots=True)
class CollectResult:
    day: date
    created: int
    updated: int
    unchanged: int
    groups: tuple[LargeValueGroup, ...]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the subject is, as far as the report needs: a customer's real name, ID type and
    number (decrypted for the export only), or a merchant's registered name."""

    name: str | None = None
    id_type: str | None = None
    id_number: str | None = None


@dataclass(frozen=True, slots=True)
class LargeValueEntry:
    candidate: CandidateView
    identity: Identity
    movements: tuple[Movement, ...]


@dataclass(frozen=True, slots=True)
class SuspiciousEntry:
    candidate: CandidateView
    # Only once a risk officer marked it reported: an open candidate is not a report yet.
    identity: Identity | None


@dataclass(frozen=True, slots=True)
class DailyReport:
    day: date
    generated_at: datetime
    large_value: tuple[LargeValueEntry, ...] = ()
    suspicious: tuple[SuspiciousEntry, ...] = ()

    @property
    def transaction_count(self) -> int:
        return sum(len(entry.movements) for entry in self.large_value)


@dataclass(frozen=True, slots=True)
class ExportedFile:
    export_id: str
    day: date
    format: str  # ExportFormat
    filename: str
    media_type: str
    content: bytes = field(repr=False)
    sha256: str
    large_value_count: int
    suspicious_count: int
    transaction_count: int
