"""Money-request, split-bill and receive-code requests and responses (docs/money-requests.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.pagination import Page
from ewallet.kit.request_model import RequestModel
from ewallet.money_requests.service import NOTE_MAX_LENGTH
from ewallet.money_requests.shares import MAX_PAYERS, MIN_PAYERS
from ewallet.money_requests.views import MoneyRequestView, SplitBillView
from ewallet.transfers.schemas import PartyOut, TransferOut
from ewallet.transfers.views import TransferView


class MoneyRequestIn(RequestModel):
    phone: str = Field(max_length=32)
    amount: AmountIn = None
    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)


class MoneyRequestOut(BaseModel):
    id: str
    role: Literal["incoming", "outgoing"]  # incoming: the caller is asked to pay
    requester: PartyOut
    payer: PartyOut
    amount: AmountOut
    note: str | None
    status: Literal["open", "paid", "declined", "cancelled", "expired"]
    split_id: str | None
    transfer_id: str | None  # the transfer that paid it
    expires_at: datetime
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, view: MoneyRequestView, *, user_id: str) -> MoneyRequestOut:
        return cls(
            id=view.id,
            role="incoming" if view.role_for(user_id) == "incoming" else "outgoing",
            requester=PartyOut.of(view.requester),
            payer=PartyOut.of(view.payer),
            amount=AmountOut.of(view.amount),
            note=view.note,
            status=view.status,
            split_id=view.split_id,
            transfer_id=view.transfer_id,
            expires_at=view.expires_at,
            created_at=view.created_at,
            decided_at=view.decided_at,
        )


class MoneyRequestEnvelope(BaseModel):
    money_request: MoneyRequestOut


class MoneyRequestList(BaseModel):
    items: list[MoneyRequestOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[MoneyRequestView], *, user_id: str) -> MoneyRequestList:
        items = [MoneyRequestOut.of(view, user_id=user_id) for view in page.items]
        return cls(items=items, next_cursor=page.next_cursor)


class AcceptIn(RequestModel):
    payment_password: str = Field(max_length=64)
    challenge_id: str | None = Field(default=None, max_length=64)


class AcceptedOut(BaseModel):
    money_request: MoneyRequestOut
    transfer: TransferOut

    @classmethod
    def of(cls, request: MoneyRequestView, transfer: TransferView, *, user_id: str) -> AcceptedOut:
        return cls(
            money_request=MoneyRequestOut.of(request, user_id=user_id),
            transfer=TransferOut.of(transfer, user_id=user_id),
        )


class SplitPayerIn(RequestModel):
    phone: str = Field(max_length=32)
    amount: AmountIn = None  # a custom share; leave out on every payer for equal shares


class SplitBillIn(RequestModel):
    amount: AmountIn = None
    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)
    payers: list[SplitPayerIn] = Field(min_length=MIN_PAYERS, max_length=MAX_PAYERS)


class SplitBillOut(BaseModel):
    id: str
    amount: AmountOut
    collected: AmountOut  # the paid shares' sum
    note: str | None
    created_at: datetime
    shares: list[MoneyRequestOut]  # one per payer, each with its own status
    counts: dict[str, int]  # per status: open, paid, declined, cancelled, expired

    @classmethod
    def of(cls, view: SplitBillView, *, user_id: str) -> SplitBillOut:
        statuses = ("open", "paid", "declined", "cancelled", "expired")
        return cls(
            id=view.id,
            amount=AmountOut.of(view.total),
            collected=AmountOut.of(view.collected),
            note=view.note,
            created_at=view.created_at,
            shares=[MoneyRequestOut.of(share, user_id=user_id) for share in view.shares],
            counts={status: view.count(status) for status in statuses},
        )


class SplitBillEnvelope(BaseModel):
    split_bill: SplitBillOut
