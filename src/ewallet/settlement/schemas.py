"""Settlement requests and answers: amounts as decimal strings with a currency (API.md)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.settlement.views import PayoutAccountView, SettlementView


class PayoutAccountIn(RequestModel):
    account_number: str = Field(min_length=1, max_length=40)
    holder_name: str = Field(min_length=1, max_length=64)


class PayoutAccountOut(BaseModel):
    party_kind: str
    party_id: str
    account_number_masked: str
    holder_name: str
    bank_code: str
    bank_name: str
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, view: PayoutAccountView) -> PayoutAccountOut:
        return cls(
            party_kind=view.party_kind,
            party_id=view.party_id,
            account_number_masked=view.masked_number,
            holder_name=view.holder_name,
            bank_code=view.bank_code,
            bank_name=view.bank_name,
            updated_by=view.updated_by,
            updated_at=view.updated_at,
        )


class PayoutAccountEnvelope(BaseModel):
    payout_account: PayoutAccountOut


class SettlementOut(BaseModel):
    id: str
    business_day: date
    period_start: datetime
    period_end: datetime
    gross: AmountOut
    refunds: AmountOut
    fees: AmountOut
    net: AmountOut
    carried_in: AmountOut
    amount_paid: AmountOut
    carried_out: AmountOut
    status: str
    bank_code: str | None
    account_last4: str | None
    bank_reference: str | None
    failure_reason: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, view: SettlementView) -> SettlementOut:
        return cls(
            id=view.id,
            business_day=view.business_day,
            period_start=view.period_start,
            period_end=view.period_end,
            gross=AmountOut.of(view.gross),
            refunds=AmountOut.of(view.refunds),
            fees=AmountOut.of(view.fees),
            net=AmountOut.of(view.net),
            carried_in=AmountOut.of(view.carried_in),
            amount_paid=AmountOut.of(view.amount),
            carried_out=AmountOut.of(view.carried_out),
            status=view.status,
            bank_code=view.bank_code,
            account_last4=view.account_last4,
            bank_reference=view.bank_reference,
            failure_reason=view.failure_reason,
            created_at=view.created_at,
            finished_at=view.finished_at,
        )


class SettlementEnvelope(BaseModel):
    settlement: SettlementOut


class SettlementPage(BaseModel):
    items: list[SettlementOut]
    next_cursor: str | None
