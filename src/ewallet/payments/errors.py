"""Refusals of the merchant, order, payment and refund use cases (each with its API code).

DomainError
├── MerchantNotSupportedError   merchant_not_supported (422): missing, disabled, no wallet
├── OrderNotPayableError        order_not_payable (409): paid, refunded, closed or expired
├── OutTradeNoConflictError     out_trade_no_conflict (409): same number, other content
├── OrderNotClosableError       order_not_closable (409): already paid
├── OrderNotRefundableError     order_not_refundable (409): never paid
├── RefundExceedsPaymentError   refund_exceeds_payment (409): more than is left to refund
├── OutRefundNoConflictError    out_refund_no_conflict (409): same number, other refund
└── (kit) CurrencyNotSupportedError  currency_not_supported (422): not a currency wallets hold
"""

from __future__ import annotations

from typing import Final

from ewallet.kit.errors import ConflictError, CurrencyNotSupportedError, DomainError

# The currencies a wallet holds (and a payer can therefore pay in). An order or charge in
# any other is refused when it is made, not when a payer finds no balance to pay it from.
WALLET_CURRENCIES: Final = frozenset({"CNY"})


class MerchantNotSupportedError(DomainError):
    code = "merchant_not_supported"
    status = 422


class OrderNotPayableError(ConflictError):
    code = "order_not_payable"


class OutTradeNoConflictError(ConflictError):
    code = "out_trade_no_conflict"


class OrderNotClosableError(ConflictError):
    code = "order_not_closable"


class OrderNotRefundableError(ConflictError):
    code = "order_not_refundable"


class RefundExceedsPaymentError(ConflictError):
    code = "refund_exceeds_payment"


class OutRefundNoConflictError(ConflictError):
    code = "out_refund_no_conflict"


def require_wallet_currency(currency: str) -> None:
    """Refuse an amount in a currency no wallet holds (``currency_not_supported``)."""
    if currency not in WALLET_CURRENCIES:
        raise CurrencyNotSupportedError(
            f"wallets hold {', '.join(sorted(WALLET_CURRENCIES))} only; "
            "orders and charges must be in it"
        )
