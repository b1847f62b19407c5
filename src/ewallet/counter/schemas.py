"""Counter-deposit requests and responses (amounts as decimal strings, API.md Money).

The customer's phone number is shown in full only to the cash roles, who had the customer
in front of them and typed it; risk officers and admins see it masked (``138****5678``).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from ewallet.counter.views import BRANCH_PATTERN, RECEIPT_PATTERN, DepositView, LargeCashView
from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel


class DepositIn(RequestModel):
    phone: str = Field(max_length=32, description="the customer's mobile number, any usual form")
    # Any JSON value: a number or a malformed string is ``invalid_amount``, not a 422 here.
    amount: AmountIn = None
    receipt_no: str = Field(pattern=RECEIPT_PATTERN, description="the paper receipt's number")
    currency: str | None = Field(default=None, max_length=3, description="CNY (the default)")
    branch: str | None = Field(
        default=None, pattern=BRANCH_PATTERN, description="branch code (default: the setting)"
    )


class RejectIn(RequestModel):
    reason: str = Field(min_length=1, max_length=200)


class DepositOut(BaseModel):
    id: str
    branch: str
    receipt_no: str
    user_id: str
    phone: str = Field(description="in full for tellers and supervisors, else masked")
    amount: AmountOut
    status: str = Field(description="awaiting_approval, completed or rejected")
    teller_id: str
    decided_by: str | None
    reject_reason: str | None
    ledger_transaction_id: str | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, deposit: DepositView, *, role: str) -> DepositOut:
        phone = deposit.phone_for(role)
        return cls(
            id=deposit.id,
            branch=deposit.branch,
            receipt_no=deposit.receipt_no,
            user_id=deposit.user_id,
            phone=phone,
            amount=AmountOut.of(deposit.amount),
            status=deposit.status,
            teller_id=deposit.teller_id,
            decided_by=deposit.decided_by,
            reject_reason=deposit.reject_reason,
            ledger_transaction_id=deposit.ledger_transaction_id,
            created_at=deposit.created_at,
            decided_at=deposit.decided_at,
        )


class DepositEnvelope(BaseModel):
    deposit: DepositOut


class DepositPage(BaseModel):
    items: list[DepositOut]
    next_cursor: str | None


class LargeCashOut(BaseModel):
    id: str
    deposit_id: str
    deposit_status: str
    user_id: str
    customer_name_masked: str | None = Field(description="null if the customer is unverified")
    phone_masked: str
    amount: AmountOut
    branch: str
    teller_id: str
    occurred_at: datetime
    approved_by: str | None
    approved_at: datetime | None

    @classmethod
    def of(cls, record: LargeCashView) -> LargeCashOut:
        return cls(
            id=record.id,
            deposit_id=record.deposit_id,
            deposit_status=record.deposit_status,
            user_id=record.user_id,
            customer_name_masked=record.customer_name_masked,
            phone_masked=record.phone_masked,
            amount=AmountOut.of(record.amount),
            branch=record.branch,
            teller_id=record.teller_id,
            occurred_at=record.occurred_at,
            approved_by=record.approved_by,
            approved_at=record.approved_at,
        )


class LargeCashReport(BaseModel):
    from_: date = Field(alias="from")
    to: date
    items: list[LargeCashOut]

    model_config = {"populate_by_name": True}
