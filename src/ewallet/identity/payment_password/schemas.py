"""Request body of ``PUT /v1/me/payment-password``."""

from __future__ import annotations

from ewallet.identity.schemas import Secret, Strict


class PaymentPasswordIn(Strict):
    """``{payment_password}`` sets the first PIN; with ``current_payment_password``, changes it."""

    payment_password: Secret
    current_payment_password: Secret | None = None
