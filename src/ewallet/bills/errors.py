"""Bill refusals that no other feature has, each with its own ``code``.

The biller's own answers about an account or an amount (``bill_account_invalid``,
``bill_amount_not_allowed``, ``bill_account_not_found``) are in
:mod:`ewallet.integrations.biller.errors`, beside the gateway that raises them.

DomainError
├── BillerDeclinedError           biller_declined (402): refused, money returned; ``reason``
└── BillReceiptNotReadyError      bill_receipt_not_ready (409): no receipt until it succeeded
"""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, DomainError


class BillerDeclinedError(DomainError):
    code = "biller_declined"
    status = 402


class BillReceiptNotReadyError(ConflictError):
    code = "bill_receipt_not_ready"
    status = 409
