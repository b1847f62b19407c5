"""Refusals of the counter-deposit API (titles in :mod:`ewallet.kit.i18n`)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError


class ReceiptAlreadyUsedError(ConflictError):
    """The branch already has a deposit under this receipt number, with other content."""

    code = "receipt_already_used"


class DepositNotAwaitingApprovalError(ConflictError):
    """Approve or reject of a deposit that is already completed or rejected."""

    code = "deposit_not_awaiting_approval"
