"""Tone-less pinyin for the process: pypinyin's character readings and our own phrase table.

pypinyin ships a dictionary of about 400,000 phrases that costs each process about 44 MB
(a worker is judged at 200 MB; docs/performance.md, "Worker memory"). We load it without
that dictionary (its ``PYPINYIN_NO_PHRASES`` switch, read once when pypinyin is first
imported) and register instead the few words whose reading matters to us and differs
from their characters' usual readings (银行 *yin hang*, not *yin xing*), through
pypinyin's public ``load_phrases_dict``. Measured over the help articles' titles and tags,
the big dictionary changed seven words and got two of them wrong (没收到 *mo shou dao*),
while it read 重置, 还款 and 长按 wrongly; our table gets all of them right.

This module is the only one that imports pypinyin (``tests/unit/test_pinyin.py`` checks
it), so the switch always takes effect before pypinyin's first import; if something did
import pypinyin earlier with its dictionary, importing this module fails rather than giving
readings that differ from the ones stored (watch-list keys). Only tone-less syllables are
offered (``ü`` written ``v``, as pypinyin's normal style does): our phrase readings are
written without tones.

The phrase table is process-wide (pypinyin keeps one). :func:`character_syllables` reads
each character alone, so it never depends on which phrases someone registered: a name's
characters are not a dictionary word (docs/risk-watchlist.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

if "pypinyin" not in sys.modules:
    # Before the import below: pypinyin decides at import whether to load its phrases.
    os.environ["PYPINYIN_NO_PHRASES"] = "true"

from pypinyin import lazy_pinyin, load_phrases_dict
from pypinyin.constants import PHRASES_DICT

_registered: dict[str, str] = {}


def _assert_without_dictionary() -> None:
    unknown = next((word for word in PHRASES_DICT if word not in _registered), None)
    if unknown is not None:
        raise ImportError(
            "pypinyin was imported with its phrase dictionary before ewallet.kit.pinyin "
            f"(it knows {unknown!r}); import pypinyin only through ewallet.kit.pinyin"
        )


_assert_without_dictionary()


def add_phrases(readings: Mapping[str, str]) -> None:
    """Register words with their tone-less readings, one syllable per character separated
    by spaces (``{"银行": "yin hang"}``, ``ü`` written ``v``). Registering the same reading
    again is a no-op; another reading for a registered word is refused (two callers would
    disagree), and then nothing of ``readings`` is registered."""
    table: dict[str, list[list[str]]] = {}
    for word, reading in readings.items():
        syllables = reading.split()
        if len(word) < 2:  # a character alone keeps pypinyin's reading (character_syllables)
            raise ValueError(f"{word!r}: a phrase has two characters or more")
        if len(syllables) != len(word) or not all(s.isascii() and s.isalpha() for s in syllables):
            raise ValueError(f"{word!r}: one Latin syllable per character expected, {reading!r}")
        known = _registered.get(word)
        if known is not None and known.split() != syllables:
            raise ValueError(f"{word!r} is already read {known!r}, not {reading!r}")
        if known is None:
            table[word] = [[syllable] for syllable in syllables]
    if table:
        _registered.update({word: " ".join(s[0] for s in value) for word, value in table.items()})
        load_phrases_dict(table)


def syllables(text: str) -> list[str]:
    """Tone-less syllables of ``text``, registered phrases read as words (银行 → ``yin
    hang``); characters without a reading are kept as they are."""
    return lazy_pinyin(text)


def character_syllables(text: str) -> list[str]:
    """Tone-less syllables of ``text`` read one character at a time: each character's
    usual reading, whatever phrases are registered (行 → ``xing``)."""
    return lazy_pinyin(list(text))
