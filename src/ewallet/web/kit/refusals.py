"""How a money page says a service's refusal: plainly, in the reader's language."""

from __future__ import annotations

from decimal import Decimal

from fastapi import Request

from ewallet.kit.errors import DomainError
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal
from ewallet.web.kit.templates import money


def money_refusal(request: Request, error: DomainError) -> str:
    """A money service's refusal as a sentence for the person paying: the PIN's remaining
    tries and a limit's remaining amount said plainly; anything else as :func:`refusal`.
    Every money page (transfers, bills, withdrawals, ...) says refusals this way."""
    locale = locale_of(request)
    if error.code == "payment_password_invalid" and "remaining_attempts" in error.extra:
        left = int(error.extra["remaining_attempts"])
        if left == 1:
            return _t("The payment password is wrong. One more wrong try will lock it.", locale)
        text = _t("The payment password is wrong. %(num)s more wrong tries will lock it.", locale)
        return text % {"num": left}
    remaining = error.extra.get("remaining")
    if error.code == "limit_exceeded" and isinstance(remaining, dict):
        minor = int(Decimal(str(remaining.get("amount", "0"))) * 100)
        text = _t("This is over your spending limit: you can spend %(amount)s more.", locale)
        return text % {"amount": money(minor, str(remaining.get("currency", "CNY")))}
    return refusal(request, error)
