"""Card refusals, with their API.md codes."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class CardInvalidError(DomainError):
    """Unknown BIN, a length its BIN does not have, a Luhn failure, or not a card number."""

    code = "card_invalid"
    status = 422


class CardNotSupportedError(DomainError):
    code = "card_not_supported"
    status = 422
