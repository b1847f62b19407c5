"""Pure ledger rules: commands, account arithmetic, and the results callers see.

Sign convention: in postings a debit is a positive amount and a credit a negative one, so
every transaction sums to zero per currency. Account balances are kept in the account's
normal direction: a wallet (a liability, credit-normal) grows with credits, a bank
settlement account (an asset, debit-normal) grows with debits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ewallet.kit.money import Money
from ewallet.ledger.errors import InsufficientBalanceError, InvalidEntryError


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class HoldStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


class TransactionKind(StrEnum):
    TOPUP = "topup"
    TRANSFER = "transfer"
    PAYMENT = "payment"
    REFUND = "refund"
    WITHDRAWAL = "withdrawal"
    FEE = "fee"
    BILL = "bill"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


# ---------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Leg:
    account_id: int
    side: Side
    amount: Money

    def signed(self) -> int:
        return self.amount.minor if self.side is Side.DEBIT else -self.amount.minor


@dataclass(frozen=True, slots=True)
class PostEntry:
    """A journal entry of two or more legs, balanced per currency."""

    key: str
    kind: str
    legs: tuple[Leg, ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    def request_hash(self) -> str:
        legs = [
            [leg.account_id, leg.side.value, leg.amount.minor, leg.amount.currency]
            for leg in self.legs
        ]
        return _digest("entry", self.kind, legs, self.metadata)


@dataclass(frozen=True, slots=True)
class CreateHold:
    """Reserve ``amount``: debit side's available falls now, the transfer happens on post."""

    key: str
    kind: str
    debit_account_id: int
    credit_account_id: int
    amount: Money
    expires_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def request_hash(self) -> str:
        expires = self.expires_at.isoformat() if self.expires_at else None
        return _digest(
            "hold",
            self.kind,
            self.debit_account_id,
            self.credit_account_id,
            self.amount.minor,
            self.amount.currency,
            expires,
            self.metadata,
        )


@dataclass(frozen=True, slots=True)
class PostHold:
    """Post a pending hold, fully (``amount=None``) or partly; the rest is released."""

    key: str
    hold_id: str
    amount: Money | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def request_hash(self) -> str:
        minor = self.amount.minor if self.amount else None
        return _digest("post_hold", self.hold_id, minor, self.metadata)


@dataclass(frozen=True, slots=True)
class VoidHold:
    """Release a pending hold; voiding a voided hold again is a no-op."""

    hold_id: str
    expire: bool = False


@dataclass(frozen=True, slots=True)
class Reverse:
    """Post the exact opposite of a transaction (corrections never edit postings)."""

    key: str
    transaction_id: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def request_hash(self) -> str:
        return _digest("reverse", self.transaction_id, self.metadata)


Command = PostEntry | CreateHold | PostHold | VoidHold | Reverse


def _digest(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def transfer(
    *,
    key: str,
    debit_account_id: int,
    credit_account_id: int,
    amount: Money,
    kind: str = TransactionKind.TRANSFER,
    metadata: dict[str, Any] | None = None,
) -> PostEntry:
    """The common two-leg entry: debit one account, credit another."""
    return PostEntry(
        key=key,
        kind=kind,
        legs=(
            Leg(debit_account_id, Side.DEBIT, amount),
            Leg(credit_account_id, Side.CREDIT, amount),
        ),
        metadata=metadata or {},
    )


def check_entry_shape(legs: tuple[Leg, ...]) -> None:
    """At least two legs, positive amounts, debits equal credits in every currency."""
    if len(legs) < 2:
        raise InvalidEntryError("an entry needs at least two legs")
    totals: dict[str, int] = {}
    for leg in legs:
        if leg.amount.minor <= 0:
            raise InvalidEntryError("leg amounts must be positive")
        totals[leg.amount.currency] = totals.get(leg.amount.currency, 0) + leg.signed()
    unbalanced = sorted(currency for currency, total in totals.items() if total)
    if unbalanced:
        raise InvalidEntryError(f"entry does not balance in {', '.join(unbalanced)}")


# ------------------------------------------------------------------------- account state


@dataclass(slots=True)
class AccountState:
    """An account's balances while a batch works on it.

    Under its row lock (``locked``) the batch moves ``posted`` directly. A hot account the
    batch only credits (module :mod:`ewallet.models.ledger`) is not locked: its changes
    gather in ``unfolded`` and are written as a balance delta, and ``posted`` -- read
    without the lock, possibly already stale -- is not used for anything.
    """

    id: int
    code: str
    kind: str
    currency: str
    normal_side: Side
    may_go_negative: bool
    posted: int
    pending_debits: int
    pending_credits: int
    hot: bool = False
    locked: bool = True
    unfolded: int = 0
    dirty: bool = False

    @property
    def available(self) -> int:
        if self.normal_side is Side.CREDIT:
            return self.posted - self.pending_debits
        return self.posted - self.pending_credits

    def post(self, signed_amount: int) -> int | None:
        """Apply a posting (debit positive); return the balance after it, if it has one."""
        change = signed_amount if self.normal_side is Side.DEBIT else -signed_amount
        self.dirty = True
        if not self.locked:
            if change < 0 and not self.may_go_negative:
                # lock_needed() locks every account an entry could overdraw: a bug if not.
                raise RuntimeError(f"unlocked account {self.code} would be lowered")
            self.unfolded += change
            return None
        self.posted += change
        return None if self.hot else self.posted

    def reserve(self, side: Side, amount: int) -> None:
        if not self.locked:
            raise RuntimeError(f"a hold on unlocked account {self.code}")
        if side is Side.DEBIT:
            self.pending_debits += amount
        else:
            self.pending_credits += amount
        self.dirty = True

    def snapshot(self) -> tuple[int, int, int, int]:
        return (self.posted, self.pending_debits, self.pending_credits, self.unfolded)

    def restore(self, snapshot: tuple[int, int, int, int]) -> None:
        self.posted, self.pending_debits, self.pending_credits, self.unfolded = snapshot


def lock_needed(
    account: AccountState, *, always: set[int], debited: set[int], credited: set[int]
) -> bool:
    """Whether a batch must hold ``account``'s row lock (the hot-account rule).

    Cold accounts: always. A hot account: when a hold involves it (``always``: holds move
    pending balances, which live on the row), or when an entry lowers it and it may not go
    negative (the overdraft check needs its exact balance). Raising a hot account, or
    moving one that may go negative either way, needs no lock: there is nothing to check.
    ``ewallet.ledger.pg_fast`` states the same rule in SQL.
    """
    if not account.hot or account.id in always:
        return True
    lowered = debited if account.normal_side is Side.CREDIT else credited
    return not account.may_go_negative and account.id in lowered


def check_not_overdrawn(accounts: dict[int, AccountState], before: dict[int, int]) -> None:
    """Refuse if any account that may not go negative fell below zero by this command."""
    for account_id, available_before in before.items():
        account = accounts[account_id]
        if account.may_go_negative or not account.locked:
            continue
        after = account.available
        if after < 0 and after < available_before:
            raise InsufficientBalanceError(
                "the available balance is below the amount",
                internal=f"account {account.code} (id {account.id}) would be overdrawn",
            )


# ------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    code: str
    kind: str
    currency: str
    normal_side: Side
    may_go_negative: bool
    posted: int
    pending_debits: int
    pending_credits: int
    hot: bool = False

    @property
    def available(self) -> int:
        if self.normal_side is Side.CREDIT:
            return self.posted - self.pending_debits
        return self.posted - self.pending_credits

    def posted_money(self) -> Money:
        return Money(self.posted, self.currency)

    def available_money(self) -> Money:
        return Money(self.available, self.currency)


@dataclass(frozen=True, slots=True)
class Posting:
    id: int
    transaction_id: str
    account_id: int
    amount: int
    currency: str
    balance_after: int | None  # none on a hot account (ewallet.models.ledger)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Transaction:
    id: str
    kind: str
    idempotency_key: str
    metadata: dict[str, Any]
    reverses_id: str | None
    hold_id: str | None
    created_at: datetime
    postings: tuple[Posting, ...]
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    kind: str
    idempotency_key: str
    status: HoldStatus
    debit_account_id: int
    credit_account_id: int
    amount: Money
    posted_amount: Money | None
    expires_at: datetime | None
    created_at: datetime
    resolved_at: datetime | None
    metadata: dict[str, Any]
    replayed: bool = False


Outcome = Transaction | Hold
