"""Transfer refusals that no other feature has, each with its own ``code``."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class TransferToSelfError(DomainError):
    """The phone number is the sender's own: moving money to oneself is not a transfer."""

    code = "transfer_to_self"
    status = 422


class PayeeAccountFrozenError(DomainError):
    """The payee's account is frozen: it cannot receive a transfer now."""

    code = "payee_account_frozen"
    status = 409


class NewPayeeConfirmationRequiredError(DomainError):
    """The sender never paid this wallet before and did not confirm the scam warning
    (``acknowledge_new_payee``): nothing was checked or moved yet, the PIN included."""

    code = "new_payee_confirmation_required"
    status = 409


class TransferNotCancellableError(DomainError):
    """Only a scheduled (delayed, not yet arrived) transfer can be cancelled; member
    ``state`` says what it is now."""

    code = "transfer_not_cancellable"
    status = 409
