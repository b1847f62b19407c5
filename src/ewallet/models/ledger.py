"""Ledger tables: accounts, transactions (journal entries), postings and holds.

Postings and transactions are append-only: nothing updates or deletes them. Account rows
carry cached balances that every posting moves under a row lock; ``ewallet ledger verify``
re-derives them from the postings.

Hot accounts (a merchant's settlement account, bank settlement, PSP clearing, fee revenue,
biller payables: accounts many concurrent entries touch) are the exception: an entry that
only raises such an account's balance, or any entry on one that may go negative, appends a
row to ``ledger_balance_deltas`` instead of taking the account row's lock. The deltas are
folded into the cached balance later, under the lock, by whoever next needs the exact
balance (a refund debiting the merchant) or by the worker. Their postings carry no
``balance_after``: with credits committing in any order there is no running balance to
record, only the sum.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
        CheckConstraint(
            "pending_debits >= 0 AND pending_credits >= 0", name="pending_non_negative"
        ),
        CheckConstraint(
            "may_go_negative OR (CASE WHEN normal_side = 'credit' "
            "THEN posted - pending_debits ELSE posted - pending_credits END) >= 0",
            name="available_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    normal_side: Mapped[str] = mapped_column(String(6))
    may_go_negative: Mapped[bool] = mapped_column(Boolean)
    # Balances in minor units, signed in the account's normal direction.
    posted: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_debits: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    # Credited through ledger_balance_deltas, without the row lock (module doc).
    hot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerBalanceDelta(Base):
    """A change to a hot account's posted balance not yet folded into its cached balance.

    Written in the same transaction as the posting it mirrors; deleted (and added to
    ``ledger_accounts.posted``) by a fold holding the account's row lock. An account's
    balance is therefore ``posted`` plus the sum of its deltas, at every committed moment.
    """

    __tablename__ = "ledger_balance_deltas"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("ledger_accounts.id"), index=True
    )
    # In the account's normal direction, like ``posted``.
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    __table_args__ = tuple(
        # Partial: most transactions post no hold and reverse nothing, and index no entry.
        Index(
            f"uq_ledger_transactions_{column}",
            column,
            unique=True,
            postgresql_where=text(f"{column} IS NOT NULL"),
            sqlite_where=text(f"{column} IS NOT NULL"),
        )
        for column in ("hold_id", "reverses_id")
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument)
    reverses_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("ledger_transactions.id")
    )
    hold_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerPosting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        # Latest-first history and balance-at-time both walk this index backwards.
        Index("ix_ledger_postings_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_transactions.id"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_accounts.id"))
    # Signed: a debit is positive, a credit negative; each transaction sums to zero.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The account's posted balance (normal direction) right after this posting; none on a
    # hot account (module doc).
    balance_after: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerHold(Base):
    """A two-phase transfer: funds reserved now, posted (fully or partly) or voided later."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('pending', 'posted', 'voided', 'expired')", name="status_known"
        ),
        Index("ix_ledger_holds_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    debit_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(8))
    posted_amount: Mapped[int | None] = mapped_column(BigInteger)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
