"""Moments as people read them: in Beijing time, in the reader's language.

The wallet stores and moves every time in UTC, and machines exchange ISO 8601; a person is
shown the wall-clock time of mainland China (every customer, every regulation the wallet
follows and every branch counter runs on it). Three spellings, one zone, one module --
web pages, notices, SMS, emails, statements and receipts all call these:

- :func:`in_words` -- inside a sentence (notices, SMS, emails, the head of a statement or
  receipt): ``2026年12月7日 22:16`` in zh-CN, ``7 Dec 2026, 22:16 (Beijing time)`` in en.
  Chinese readers need no zone (Beijing time is what a Chinese clock says); an English
  reader may be anywhere, so the zone is named.
- :func:`compact` -- a column of a table (web lists, statement rows): ``2026-12-07 22:16``,
  the same in both languages; the page or document says once that times are Beijing time.
- :func:`iso_local` -- for machines that also show people (statement CSV):
  ``2026-12-07T22:16:05+08:00``, ISO 8601 with the offset written out.

:func:`humanize_moments` turns the ISO 8601 moments in a message's parameters (what
notices store: a notice is rendered again in whatever language its reader later has)
into :func:`in_words`. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from ewallet.kit.i18n import EN, Locale

DISPLAY_ZONE: Final = ZoneInfo("Asia/Shanghai")
"""The zone every moment shown to a person is in (China has one, with no summer time)."""
ZONE_NAME: Final = {"zh-CN": "北京时间", "en": "Beijing time"}
MONTHS_EN: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# An aware ISO 8601 moment as ``datetime.isoformat`` writes it (date, T, time to minutes or
# finer, then Z or an offset): only these are moments; a bare date or a naive time is not.
_ISO_MOMENT: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})"
)


def local(moment: datetime) -> datetime:
    """``moment`` on a Beijing clock; a naive one is taken as UTC (SQLite gives those)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(DISPLAY_ZONE)


def in_words(moment: datetime, locale: Locale) -> str:
    """``2026年12月7日 22:16`` (zh-CN) or ``7 Dec 2026, 22:16 (Beijing time)`` (en)."""
    at = local(moment)
    if locale == EN:
        month = MONTHS_EN[at.month - 1]
        return f"{at.day} {month} {at.year}, {at.hour:02d}:{at.minute:02d} (Beijing time)"
    return f"{at.year}年{at.month}月{at.day}日 {at.hour:02d}:{at.minute:02d}"


def compact(moment: datetime | None) -> str:
    """``2026-12-07 22:16`` (Beijing time); empty for None. Long tables show one per row,
    so this avoids ``strftime``, which costs three times as much."""
    if moment is None:
        return ""
    at = local(moment)
    return "%04d-%02d-%02d %02d:%02d" % (  # noqa: UP031 -- the cheapest of the spellings
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
    )


def iso_local(moment: datetime) -> str:
    """``2026-12-07T22:16:05+08:00``: ISO 8601 to the second, with Beijing's offset."""
    return local(moment).isoformat(timespec="seconds")


def parse_moment(value: object) -> datetime | None:
    """The aware moment ``value`` is (a datetime, or an ISO 8601 text with an offset);
    None for anything else -- a date, a naive time, an amount, a name."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def humanize_moments(params: Mapping[str, Any], locale: Locale) -> dict[str, Any]:
    """``params`` with every moment (see :func:`parse_moment`) spelt :func:`in_words`."""
    shown: dict[str, Any] = {}
    for key, value in params.items():
        moment = parse_moment(value)
        shown[key] = value if moment is None else in_words(moment, locale)
    return shown
