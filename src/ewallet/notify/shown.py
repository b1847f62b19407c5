"""A notice's parameters as its reader is shown them.

Notices store machine values -- moments in ISO 8601 UTC, currencies as ISO 4217 codes --
because a notice is rendered again each time it is read, in the language its reader has
then (the same notice may be read in zh-CN today and in en next week). Here, just before
the wording is filled in, a moment becomes Beijing time in words
(:func:`ewallet.kit.human_time.in_words`) and, for a Chinese reader, ``CNY`` becomes
``元`` ("充值到账 100.00 元", not "100.00 CNY"). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ewallet.kit.human_time import humanize_moments
from ewallet.kit.i18n import ZH_CN, Locale

CURRENCY_WORDS_ZH: Final = {"CNY": "元"}


def shown_params(params: Mapping[str, Any], locale: Locale) -> dict[str, Any]:
    """``params`` ready for the wording of ``locale`` (see the module doc)."""
    shown = humanize_moments(params, locale)
    currency = shown.get("currency")
    if locale == ZH_CN and isinstance(currency, str):
        shown["currency"] = CURRENCY_WORDS_ZH.get(currency, currency)
    return shown
