"""Bill refusals that no other feature has, each with its own ``code``.

DomainError
├── BillAccountInvalidError       bill_account_invalid (422): format or check digit; ``hint``
├── BillAmountNotAllowedError     bill_amount_not_allowed (422): top-up amount not offered
├── BillAccountNotFoundError      bill_account_not_found (404): the biller has no such account
├── BillerDeclinedError           biller_declined (402): refused, money returned; ``reason``
└── BillReceiptNotReadyError      bill_receipt_not_ready (409): no receipt until it succeeded
"""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, DomainError, NotFoundError


class BillAccountInvalidError(DomainError):
    code = "bill_account_invalid"
    status = 422


class BillAmountNotAllowedError(DomainError):
    code = "bill_amount_not_allowed"
    status = 422


class BillAccountNotFoundError(NotFoundError):
    code = "bill_account_not_found"
    status = 404


class BillerDeclinedError(DomainError):
    code = "biller_declined"
    status = 402


class BillReceiptNotReadyError(ConflictError):
    code = "bill_receipt_not_ready"
    status = 409
