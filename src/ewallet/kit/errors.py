"""One error tree for the whole wallet, mapped once at the HTTP edge.

    DomainError                      every expected business failure (4xx/503)
    ├── money.InvalidAmountError       invalid_amount
    ├── ledger.errors.LedgerError      insufficient_balance, hold/transaction state, ...
    ├── NotFoundError                  not_found
    ├── ForbiddenError                 forbidden
    ├── UnauthorizedError              unauthorized
    ├── ValidationFailedError          validation_error
    ├── ConflictError                  idempotency_key_reused and other 409s
    └── ...                            per feature, each with its API.md ``code``

Each subclass fixes ``code`` (the stable string clients switch on) and ``status``.
``detail`` is an English sentence for logs and for clients that ask for ``en``; the
translated title comes from :mod:`ewallet.kit.i18n` by ``code``. ``extra`` holds the
problem members API.md names (``retry_after``, ``remaining_attempts``, ``limit`` ...).
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail
        self.extra: dict[str, Any] = extra
        super().__init__(detail or self.code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.detail!r})"


class ValidationFailedError(DomainError):
    code = "validation_error"
    status = 422


class NotFoundError(DomainError):
    code = "not_found"
    status = 404


class ForbiddenError(DomainError):
    code = "forbidden"
    status = 403


class UnauthorizedError(DomainError):
    code = "unauthorized"
    status = 401


class ConflictError(DomainError):
    code = "conflict"
    status = 409


class IdempotencyKeyRequiredError(DomainError):
    code = "idempotency_key_required"
    status = 400


class IdempotencyKeyReusedError(DomainError):
    code = "idempotency_key_reused"
    status = 409


class MaintenanceError(DomainError):
    code = "maintenance"
    status = 503


class UpstreamUnavailableError(DomainError):
    code = "upstream_unavailable"
    status = 503


class ServerBusyError(DomainError):
    """The server could not take the request now (every check slot busy); nothing happened
    and nothing was counted against the caller. Carries ``retry_after``."""

    code = "server_busy"
    status = 503


class CurrencyNotSupportedError(DomainError):
    """An amount in a currency wallets do not hold (orders, charges, counter cash)."""

    code = "currency_not_supported"
    status = 422


class RateLimitedError(DomainError):
    code = "rate_limited"
    status = 429
