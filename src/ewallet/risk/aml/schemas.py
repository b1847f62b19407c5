"""AML report requests and answers: amounts as decimal strings with a currency (API.md).

The JSON list carries no names or ID numbers: a customer is named by id; the export (a
file, audited) is where the identities the rules require appear."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.risk.aml.views import CandidateView


class DecisionIn(RequestModel):
    note: str | None = Field(default=None, max_length=500)


class CandidateOut(BaseModel):
    id: str
    kind: str = Field(description="large_value or suspicious")
    category: str
    rule_name: str | None
    subject_type: str = Field(description="user or merchant")
    subject_id: str
    business_day: date
    due_date: date = Field(description="the last working day to report it")
    amount: AmountOut
    transaction_count: int
    transaction_refs: list[str]
    reason: str
    state: str = Field(description="open, reported or dismissed")
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None

    @classmethod
    def of(cls, view: CandidateView) -> CandidateOut:
        return cls(
            id=view.id,
            kind=view.kind,
            category=view.category,
            rule_name=view.rule_name,
            subject_type=view.subject_type,
            subject_id=view.subject_id,
            business_day=view.business_day,
            due_date=view.due_date,
            amount=AmountOut.of(view.amount),
            transaction_count=view.transaction_count,
            transaction_refs=list(view.transaction_refs),
            reason=view.reason,
            state=view.state,
            created_at=view.created_at,
            decided_by=view.decided_by,
            decided_at=view.decided_at,
            note=view.note,
        )


class CandidateList(BaseModel):
    date: date
    items: list[CandidateOut]


class CandidateEnvelope(BaseModel):
    candidate: CandidateOut
