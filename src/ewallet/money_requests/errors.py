"""Money-request refusals that no other feature has, each with its own ``code``."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class MoneyRequestNotOpenError(DomainError):
    """The request was paid, declined, cancelled or has expired: nothing more can happen
    to it. ``state`` says which."""

    code = "money_request_not_open"
    status = 409
