"""What settlement's use cases return: payout accounts, settlements, statements, run reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ewallet.kit.money import Money
from ewallet.models.settlement import OPEN_STATUSES, SettlementStatus


@dataclass(frozen=True, slots=True)
class Party:
    """Who is paid: a merchant or a biller, and its ledger account."""

    kind: str  # PartyKind
    id: str
    account_id: int


@dataclass(frozen=True, slots=True)
class PayoutAccountView:
    """A registered payout account as people see it: the number masked."""

    party_kind: str
    party_id: str
    masked_number: str
    last4: str
    holder_name: str
    bank_code: str
    bank_name: str
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> PayoutAccountView:
        return cls(
            party_kind=row.party_kind,
            party_id=row.party_id,
            masked_number=f"**** **** **** {row.last4}",
            last4=row.last4,
            holder_name=row.holder_name,
            bank_code=row.bank_code,
            bank_name=row.bank_name,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )


@dataclass(frozen=True, slots=True)
class PayoutTarget:
    """Where the money goes, decrypted only for the bank call."""

    account_number_encrypted: str
    holder_name: str
    bank_code: str
    last4: str


@dataclass(frozen=True, slots=True)
class SettlementView:
    id: str
    party_kind: str
    party_id: str
    business_day: date
    period_start: datetime
    period_end: datetime
    gross: Money
    refunds: Money
    fees: Money
    net: Money
    carried_in: Money
    amount: Money
    status: str
    bank_request_id: str | None
    bank_code: str | None
    account_last4: str | None
    bank_reference: str | None
    failure_reason: str | None
    hold_id: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> SettlementView:
        currency = row.currency
        return cls(
            id=row.id,
            party_kind=row.party_kind,
            party_id=row.party_id,
            business_day=date.fromisoformat(row.business_day),
            period_start=row.period_start,
            period_end=row.period_end,
            gross=Money(int(row.gross), currency),
            refunds=Money(int(row.refunds), currency),
            fees=Money(int(row.fees), currency),
            net=Money(int(row.net), currency),
            carried_in=Money(int(row.carried_in), currency),
            amount=Money(int(row.amount), currency),
            status=row.status,
            bank_request_id=row.bank_request_id,
            bank_code=row.bank_code,
            account_last4=row.account_last4,
            bank_reference=row.bank_reference,
            failure_reason=row.failure_reason,
            hold_id=row.hold_id,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def carried_out(self) -> Money:
        """Still owed after this row: what the next day carries in (a failed payout's
        amount is owed again)."""
        paid = 0 if self.status == SettlementStatus.FAILED else self.amount.minor
        owed = self.carried_in.minor + self.net.minor - paid
        return Money(owed, self.amount.currency)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One payment or refund of a statement (amounts in fen, refunds negative)."""

    kind: str  # payment | refund
    id: str
    order_id: str
    out_trade_no: str | None
    occurred_at: datetime
    amount: Money
    fee: Money


@dataclass(frozen=True, slots=True)
class Statement:
    settlement: SettlementView
    party_name: str
    lines: list[StatementLine]


@dataclass(slots=True)
class RunReport:
    """What one settlement run did, by settlement id."""

    day: date
    parties: int = 0
    paid: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # parties settled on a later day
    errors: list[str] = field(default_factory=list)
    paid_total: int = 0
    payments: int = 0  # payments covered by this run's new rows

    def counts(self) -> dict[str, int]:
        return {
            "parties": self.parties,
            "paid": len(self.paid),
            "pending": len(self.pending),
            "failed": len(self.failed),
            "carried": len(self.carried),
            "already_done": len(self.already_done),
            "skipped": len(self.skipped),
            "errors": len(self.errors),
            "paid_total_fen": self.paid_total,
            "payments": self.payments,
        }
