"""Ledger refusals. Each leaves the ledger exactly as it was."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, DomainError, NotFoundError, ValidationFailedError


class LedgerError(DomainError):
    """Base of every ledger refusal."""


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
