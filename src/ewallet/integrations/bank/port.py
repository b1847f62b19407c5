"""The bank port: what the wallet asks of a bank, and the typed answers it gets back.

A debit or credit answers ``succeeded``, ``declined`` or ``unknown``. ``unknown`` is not a
failure: the request may have reached the bank and moved the money (a timeout, a broken
connection, a 5xx). The caller keeps the amount in suspense and settles it later with
:meth:`BankGateway.query` or the settlement file, retrying with the *same* request id, which
the bank honours, so nothing is moved twice. Refusals before anything could happen raise
(:mod:`ewallet.integrations.bank.errors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from ewallet.kit.money import Money

MovementStatus = Literal["succeeded", "declined", "unknown"]
MovementKind = Literal["debit", "credit", "payout"]
QueryStatus = Literal["succeeded", "declined", "not_found"]


@dataclass(frozen=True, slots=True)
class BindingStarted:
    """The bank texted a code to the phone it holds for the card."""

    request_id: str
    bank_phone_masked: str  # 138****5678, to tell the user where the code went
    expires_in_seconds: int


@dataclass(frozen=True, slots=True)
class BoundCard:
    """A confirmed binding: the token replaces the card number from now on."""

    agreement_token: str
    bank_code: str
    bank_name: str
    card_type: str
    last4: str


@dataclass(frozen=True, slots=True)
class DebitResult:
    """The outcome of one debit or credit, as far as the wallet could learn it."""

    request_id: str
    status: MovementStatus
    bank_reference: str | None
    reason: str | None  # why declined, or why unknown (timeout, connection_lost, ...)
    answered_at: datetime  # when the wallet learned this (by the gateway's clock)


# A credit (withdrawal) and a payout to an account number answer in the same shape.
CreditResult = DebitResult
PayoutResult = DebitResult


@dataclass(frozen=True, slots=True)
class OperationStatus:
    """What the bank's records say about a request id (``not_found``: it never arrived)."""

    request_id: str
    status: QueryStatus
    kind: MovementKind | None = None
    amount: Money | None = None
    bank_reference: str | None = None
    reason: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One succeeded operation of the bank's settlement file for a day."""

    request_id: str
    kind: MovementKind
    amount: Money
    status: str
    bank_reference: str
    occurred_at: datetime


class BankGateway(Protocol):
    """A bank's card-payment gateway. Request ids are the caller's and deterministic
    (``"topup:<id>"``): calling again with the same id never moves money twice."""

    async def start_binding(
        self,
        *,
        card_number: str,
        holder_name: str,
        id_number: str,
        bank_phone: str,
        request_id: str,
    ) -> BindingStarted:
        """Ask the bank to check the holder's details and text a code to its phone."""
        ...

    async def confirm_binding(self, *, request_id: str, code: str) -> BoundCard:
        """Trade the texted code for an agreement token (retrying is safe)."""
        ...

    async def unbind(self, *, agreement_token: str) -> None:
        """Revoke the agreement; an agreement the bank does not know counts as revoked."""
        ...

    async def debit(self, *, agreement_token: str, amount: Money, request_id: str) -> DebitResult:
        """Pull ``amount`` from the card (a top-up)."""
        ...

    async def credit(self, *, agreement_token: str, amount: Money, request_id: str) -> CreditResult:
        """Push ``amount`` to the card (a withdrawal)."""
        ...

    async def payout(
        self, *, account_number: str, holder_name: str, amount: Money, request_id: str
    ) -> PayoutResult:
        """Pay ``amount`` to a bank account by its number (a merchant's or biller's
        settlement). The bank checks ``holder_name`` against the account's holder and
        declines (``name_mismatch``, ``account_not_found``) rather than paying a stranger;
        answered like :meth:`credit` (``unknown`` is not a failure)."""
        ...

    async def check_account_name(self, *, account_number: str, holder_name: str) -> str | None:
        """Whether ``holder_name`` is the holder of the account (card) ``account_number``,
        the check :meth:`payout` makes, without paying: None when it is, else the reason
        (``name_mismatch``, ``account_not_found``). Moves no money; unreachable:
        ``upstream_unavailable``."""
        ...

    async def query(self, *, request_id: str) -> OperationStatus:
        """The bank's record of a debit or credit, to settle an unknown outcome."""
        ...

    async def settlement(self, day: date) -> list[SettlementRow]:
        """The bank's settlement file for its business ``day``: succeeded operations."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
