"""The payment-code screen of the wallet: the code to show now and the charges it follows."""

from __future__ import annotations

from ewallet.payments.payment_codes.service import codes, confirmations
from ewallet.payments.payment_codes.views import PaymentScreen
from ewallet.services import Services


async def show(services: Services, user_id: str) -> PaymentScreen:
    """The code to show the cashier now (:func:`.codes.issue_code`, with its refusals:
    ``account_frozen``, ``payment_password_not_set``, ``rate_limited``) and the user's
    charges waiting for the payment password or just paid (:func:`.confirmations.activity`)."""
    code = await codes.issue_code(services, user_id)
    return PaymentScreen(code, await confirmations.activity(services, user_id))
