"""Settlement refusals, each with its API.md code."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, NotFoundError


class SettlementNotFoundError(NotFoundError):
    """No such settlement of the caller's (another merchant's id answers the same)."""


class PartyNotFoundError(NotFoundError):
    """No such merchant or biller."""


class DayNotSettleableError(ConflictError):
    """The business day has not ended yet (``conflict``)."""


class PayoutAccountNotFoundError(NotFoundError):
    """No payout account is registered for the merchant or biller."""
