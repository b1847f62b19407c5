"""Refusals of the payment-code use cases (with the shared payments refusals,
:mod:`ewallet.payments.errors`)."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class PaymentCodeInvalidError(DomainError):
    """``payment_code_invalid``: malformed, forged, expired, or already used -- one answer
    for all, so a merchant's scanner learns nothing about whose code it was."""

    code = "payment_code_invalid"
    status = 422
