"""Bank refusals as wallet errors, each with its API.md code.

    DomainError
    ├── BankDeclinedError               bank_declined (402): the bank said no; ``reason``
    ├── BankCodeInvalidError            verification_code_invalid (400); ``remaining_attempts``
    ├── BankCodeExpiredError            verification_code_expired (400): expired, used, unknown
    ├── BankCodeAttemptsExhaustedError  too_many_attempts (429): the binding is dead
    ├── BankRequestReusedError          idempotency_key_reused (409): one id, two bodies
    └── kit.errors.UpstreamUnavailableError  upstream_unavailable (503): nothing happened

A debit or credit whose outcome is unknown is *not* an error: it is a
:class:`~ewallet.integrations.bank.port.DebitResult` with status ``unknown``.
"""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class BankConfigurationError(RuntimeError):
    """The bank settings cannot work (e.g. the sandbox bank in production)."""


class BankDeclinedError(DomainError):
    code = "bank_declined"
    status = 402


class BankCodeInvalidError(DomainError):
    code = "verification_code_invalid"
    status = 400


class BankCodeExpiredError(DomainError):
    code = "verification_code_expired"
    status = 400


class BankCodeAttemptsExhaustedError(DomainError):
    code = "too_many_attempts"
    status = 429


class BankRequestReusedError(DomainError):
    code = "idempotency_key_reused"
    status = 409
