"""What a biller says about an account or an amount, as API.md codes.

DomainError
├── BillAccountInvalidError       bill_account_invalid (422): format or check digit; ``hint``
├── BillAmountNotAllowedError     bill_amount_not_allowed (422): top-up amount not offered
└── BillAccountNotFoundError      bill_account_not_found (404): the biller has no such account
"""

from __future__ import annotations

from ewallet.kit.errors import DomainError, NotFoundError


class BillAccountInvalidError(DomainError):
    code = "bill_account_invalid"
    status = 422


class BillAmountNotAllowedError(DomainError):
    code = "bill_amount_not_allowed"
    status = 422


class BillAccountNotFoundError(NotFoundError):
    code = "bill_account_not_found"
    status = 404
