"""Card refusals, with their API.md codes."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class CardNotSupportedError(DomainError):
    code = "card_not_supported"
    status = 422


class CardAlreadyBoundError(DomainError):
    code = "card_already_bound"
    status = 409


class CardLimitReachedError(DomainError):
    code = "card_limit_reached"
    status = 409


class CardOperationPendingError(DomainError):
    """A top-up (or another bank operation) on the card has not settled yet."""

    code = "card_operation_pending"
    status = 409
