"""Identity refusals, each with its API.md code."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


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


# Account security (payment password, resets, TOTP, real name, protection).


class PaymentPasswordAlreadySetError(DomainError):
    code = "payment_password_already_set"
    status = 409


class SameAsLoginPasswordError(DomainError):
    code = "same_as_login_password"
    status = 422


class TotpInvalidError(DomainError):
    code = "totp_invalid"
    status = 400


class TotpAlreadyEnabledError(DomainError):
    code = "totp_already_enabled"
    status = 409


class TotpNotEnabledError(DomainError):
    code = "totp_not_enabled"
    status = 409


class InvalidIdNumberError(DomainError):
    code = "invalid_id_number"
    status = 422


class InvalidRealNameError(DomainError):
    code = "invalid_real_name"
    status = 422


class AgeNotEligibleError(DomainError):
    code = "age_not_eligible"
    status = 422


class IdentityMismatchError(DomainError):
    code = "identity_mismatch"
    status = 403


class IdentityRequiredError(DomainError):
    code = "identity_required"
    status = 422


class IdentityAlreadyVerifiedError(DomainError):
    code = "identity_already_verified"
    status = 409


class IdNumberInUseError(DomainError):
    code = "id_number_in_use"
    status = 409


class AccountNotFrozenError(DomainError):
    code = "account_not_frozen"
    status = 409
