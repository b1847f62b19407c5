"""Identity refusals, each with its API.md code."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class InvalidPhoneError(DomainError):
    code = "invalid_phone"
    status = 422


class PhoneAlreadyRegisteredError(DomainError):
    code = "phone_already_registered"
    status = 409


class VerificationCodeInvalidError(DomainError):
    code = "verification_code_invalid"
    status = 400


class VerificationCodeExpiredError(DomainError):
    code = "verification_code_expired"
    status = 400


class TooManyAttemptsError(DomainError):
    code = "too_many_attempts"
    status = 429


class WeakPasswordError(DomainError):
    code = "weak_password"
    status = 422


class WeakPaymentPasswordError(DomainError):
    code = "weak_payment_password"
    status = 422


class InvalidCredentialsError(DomainError):
    code = "invalid_credentials"
    status = 401


class StepUpRequiredError(DomainError):
    code = "step_up_required"
    status = 401


class PaymentPasswordNotSetError(DomainError):
    code = "payment_password_not_set"
    status = 409


class PaymentPasswordInvalidError(DomainError):
    code = "payment_password_invalid"
    status = 403


class PaymentPasswordLockedError(DomainError):
    code = "payment_password_locked"
    status = 423


class AccountFrozenError(DomainError):
    code = "account_frozen"
    status = 423
