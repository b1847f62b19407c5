"""What the counter-deposit services hand back: plain values, read from one row each
(statuses: :class:`ewallet.models.counter.DepositStatus`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row

from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone

# Who sees a deposit's phone number in full: the cash roles, who had the customer at the
# counter and typed it. Everyone else reads it masked (``138****5678``).
FULL_PHONE_ROLES: Final = frozenset({"teller", "teller_supervisor"})
# Branch codes become part of a ledger account code (``cash_vault:<branch>:CNY``).
BRANCH_PATTERN: Final = r"^[A-Za-z0-9_-]{1,32}$"
RECEIPT_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_/-]{0,63}$"


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
    # The staff members' names (display name, else email), when the query joined them.
    teller_name: str | None = None
    decider_name: str | None = None

    @classmethod
    def of(cls, row: Row[Any]) -> DepositView:
        names = row._mapping
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
            teller_name=names.get("teller_name"),
            decider_name=names.get("decider_name"),
        )

    def phone_for(self, role: str) -> str:
        """The phone number as ``role`` may read it: in full for the cash roles, else masked."""
        return self.phone if role in FULL_PHONE_ROLES else mask_phone(self.phone)


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
    teller_name: str | None = None
    approver_name: str | None = None

    @classmethod
    def of(cls, row: Row[Any]) -> LargeCashView:
        names = row._mapping
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
            teller_name=names.get("teller_name"),
            approver_name=names.get("approver_name"),
        )


@dataclass(frozen=True, slots=True)
class CounterTerms:
    """What a customer is told before bringing cash to a counter: the cash taken
    (``currency``), the amount from which a second member of staff must approve the
    deposit (``large_cash_threshold``), and the hotline for questions."""

    currency: str
    large_cash_threshold: Money
    hotline: str


@dataclass(frozen=True, slots=True)
class CounterDesk:
    """What the teller's deposit form states: the cash taken (``currency``), the amount
    from which a supervisor must approve (``large_cash_threshold``) and the branch a
    deposit is booked at when the teller names none (``default_branch``)."""

    currency: str
    large_cash_threshold: Money
    default_branch: str


@dataclass(frozen=True, slots=True)
class DepositPreview:
    """A slip checked before the cash is taken: whose wallet the phone number opens (masked,
    for the teller to compare with the person at the counter) and what will happen.

    ``earlier`` is the deposit this branch's receipt already recorded with the same phone
    number and amount: recording the slip again answers that deposit, it credits nothing.
    """

    phone_masked: str
    customer_name_masked: str | None
    amount: Money
    receipt_no: str
    branch: str
    needs_approval: bool
    large_cash_threshold: Money
    earlier: DepositView | None


@dataclass(frozen=True, slots=True)
class DepositReceipt:
    """What a deposit's printed receipt shows: the deposit (with the teller's and the
    deciding supervisor's names), the customer masked, and when it was printed."""

    deposit: DepositView
    customer_name_masked: str | None
    phone_masked: str
    printed_at: datetime
