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
