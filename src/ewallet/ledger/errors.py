"""Ledger refusals. Each leaves the ledger exactly as it was.

A refusal's ``detail`` may reach a client (as the problem's detail for ``en`` readers), so
it never names a ledger account, hold, transaction or key: account codes carry user and
merchant ids (``wallet:<user>:CNY``) and row ids are internal. What an operator needs to
trace the refusal goes in ``internal`` instead, which the batch logs (``ledger.refused``)
and no answer carries.
"""

from __future__ import annotations

from typing import Any

from ewallet.kit.errors import ConflictError, DomainError, NotFoundError, ValidationFailedError


class LedgerError(DomainError):
    """Base of every ledger refusal; ``internal`` is for logs only (module doc)."""

    def __init__(self, detail: str | None = None, *, internal: str | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.internal = internal


class InsufficientBalanceError(LedgerError):
    code = "insufficient_balance"
    status = 402


class AccountNotFoundError(NotFoundError, LedgerError):
    pass


class TransactionNotFoundError(NotFoundError, LedgerError):
    pass


class HoldNotFoundError(NotFoundError, LedgerError):
    pass


class InvalidEntryError(ValidationFailedError, LedgerError):
    """Unbalanced entry, fewer than two legs, a currency that does not match its account."""


class LedgerKeyReusedError(LedgerError):
    """The idempotency key was used before for a different command."""

    code = "idempotency_key_reused"
    status = 409


class HoldNotPendingError(ConflictError, LedgerError):
    code = "hold_not_pending"


class HoldExpiredError(ConflictError, LedgerError):
    code = "hold_expired"


class AlreadyReversedError(ConflictError, LedgerError):
    code = "already_reversed"
