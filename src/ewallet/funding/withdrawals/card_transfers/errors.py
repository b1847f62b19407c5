"""Card-transfer refusals that no other feature has, each with its own ``code``."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class PayeeNameMismatchError(DomainError):
    """The bank says the name is not the card's holder (or it keeps no such card, member
    ``reason``: ``account_not_found``): nothing was held or moved."""

    code = "payee_name_mismatch"
    status = 422


class CardIsOwnError(DomainError):
    """The card is one of the payer's own bound cards: money goes there by a withdrawal
    (no name check, the card's own agreement). Refused before the PIN; nothing changes."""

    code = "card_is_own"
    status = 422


class CardTransferNotCancellableError(DomainError):
    """Only a scheduled card transfer can be cancelled; member ``state`` says what it is."""

    code = "transfer_not_cancellable"
    status = 409
