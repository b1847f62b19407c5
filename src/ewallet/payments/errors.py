"""Refusals of the merchant, order, payment and refund use cases (each with its API code).

DomainError
├── MerchantNotSupportedError   merchant_not_supported (422): missing, disabled, no wallet
├── OrderNotPayableError        order_not_payable (409): paid, refunded, closed or expired
├── OutTradeNoConflictError     out_trade_no_conflict (409): same number, other content
├── OrderNotClosableError       order_not_closable (409): already paid
├── OrderNotRefundableError     order_not_refundable (409): never paid
├── RefundExceedsPaymentError   refund_exceeds_payment (409): more than is left to refund
└── OutRefundNoConflictError    out_refund_no_conflict (409): same number, other refund
"""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, DomainError


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
