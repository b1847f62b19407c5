"""The sandbox bank's wire format: requests it accepts and answers it gives.

Requests refuse unknown fields and non-integer amounts, so a mistake in the wallet's
adapter shows up as a 422 in tests rather than as a silently ignored field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

RequestId = Annotated[str, Field(min_length=1, max_length=128)]
Token = Annotated[str, Field(min_length=1, max_length=64)]
# Up to 100 billion yuan: far above any real limit, far below BIGINT.
AmountFen = Annotated[StrictInt, Field(gt=0, le=10_000_000_000_000)]


class BankRefusedError(Exception):
    """A refusal the bank answers with ``{"code", "detail", ...}`` and an HTTP status."""

    def __init__(self, code: str, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.status = status
        self.detail = detail
        self.extra = extra


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BindRequest(_Request):
    card_number: Annotated[str, Field(min_length=1, max_length=32)]
    holder_name: Annotated[str, Field(min_length=1, max_length=64)]
    id_number: Annotated[str, Field(min_length=1, max_length=32)]
    bank_phone: Annotated[str, Field(min_length=1, max_length=32)]
    request_id: RequestId


class BindStarted(BaseModel):
    request_id: str
    bank_phone_masked: str
    expires_in: int


class BindConfirmRequest(_Request):
    request_id: RequestId
    code: Annotated[str, Field(min_length=1, max_length=12)]


class BindConfirmed(BaseModel):
    agreement_token: str
    bank_code: str
    bank_name: str
    card_type: str
    card_last4: str


class UnbindRequest(_Request):
    agreement_token: Token


class Unbound(BaseModel):
    agreement_token: str
    status: Literal["revoked"] = "revoked"


class MovementRequest(_Request):
    agreement_token: Token
    amount_fen: AmountFen
    request_id: RequestId


class PayoutRequest(_Request):
    account_number: Annotated[str, Field(min_length=12, max_length=19, pattern=r"^[0-9]+$")]
    holder_name: Annotated[str, Field(min_length=1, max_length=64)]
    amount_fen: AmountFen
    request_id: RequestId


class NameCheckRequest(_Request):
    account_number: Annotated[str, Field(min_length=12, max_length=19, pattern=r"^[0-9]+$")]
    holder_name: Annotated[str, Field(min_length=1, max_length=64)]


class NameCheckAnswer(BaseModel):
    """Whether ``holder_name`` is the account's holder: ``matches``, or the reason it does
    not (``name_mismatch``, ``account_not_found``); the holder's name is never told."""

    matches: bool
    reason: str | None = None


class MovementAnswer(BaseModel):
    request_id: str
    status: Literal["succeeded", "declined"]
    bank_reference: str
    reason: str | None = None


class OperationAnswer(BaseModel):
    request_id: str
    status: Literal["succeeded", "declined", "not_found"]
    type: Literal["debit", "credit", "payout"] | None = None
    amount_fen: int | None = None
    bank_reference: str | None = None
    reason: str | None = None
    occurred_at: datetime | None = None


class CardView(BaseModel):
    number: str
    bank_code: str
    bank_name: str
    card_type: str
    holder_name: str
    id_number: str
    bank_phone: str
    balance_fen: int
    balance: str  # yuan, "1234.56", for people reading the list
    behaviour: str
    note: str


class SentSms(BaseModel):
    phone: str
    sender: str
    body: str
    code: str | None
    created_at: datetime
