"""What the counter-deposit services hand back: plain values, read from one row each
(statuses: :class:`ewallet.models.counter.DepositStatus`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from ewallet.kit.money import Money


@dataclass(frozen=True, slots=True)
class DepositView:
    id: str
    branch: str
    receipt_no: str
    user_id: str
    phone: str
    amount: Money
    status: str
    teller_id: str
    decided_by: str | None
    reject_reason: str | None
    ledger_transaction_id: str | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, row: Row[Any]) -> DepositView:
        return cls(
            id=row.id,
            branch=row.branch,
            receipt_no=row.receipt_no,
            user_id=row.user_id,
            phone=row.phone,
            amount=Money(row.amount, row.currency),
            status=row.status,
            teller_id=row.teller_id,
            decided_by=row.decided_by,
            reject_reason=row.reject_reason,
            ledger_transaction_id=row.ledger_transaction_id,
            created_at=row.created_at,
            decided_at=row.decided_at,
        )


@dataclass(frozen=True, slots=True)
class LargeCashView:
    """One large-cash record, with the deposit's current status (approved or not yet)."""

    id: str
    deposit_id: str
    deposit_status: str
    user_id: str
    customer_name_masked: str | None
    phone_masked: str
    amount: Money
    branch: str
    teller_id: str
    occurred_at: datetime
    approved_by: str | None
    approved_at: datetime | None

    @classmethod
    def of(cls, row: Row[Any]) -> LargeCashView:
        return cls(
            id=row.id,
            deposit_id=row.deposit_id,
            deposit_status=row.deposit_status,
            user_id=row.user_id,
            customer_name_masked=row.customer_name_masked,
            phone_masked=row.phone_masked,
            amount=Money(row.amount, row.currency),
            branch=row.branch,
            teller_id=row.teller_id,
            occurred_at=row.occurred_at,
            approved_by=row.approved_by,
            approved_at=row.approved_at,
        )


@dataclass(frozen=True, slots=True)
class CounterTerms:
    """What a customer is told before bringing cash to a counter: the cash taken
    (``currency``), the amount from which a second member of staff must approve the
    deposit (``large_cash_threshold``), and the hotline for questions."""

    currency: str
    large_cash_threshold: Money
    hotline: str
