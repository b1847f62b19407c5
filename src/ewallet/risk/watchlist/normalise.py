"""Names in one comparable shape: Han characters simplified, every name as tone-less pinyin.

A name goes through these steps (docs/risk-watchlist.md, "Normalisation"):

1. NFKC: full-width letters and digits become half-width (``ＺＨＡＮＧ`` → ``ZHANG``), and
   compatibility forms their usual character; then case-folding.
2. Han characters are converted from traditional to simplified (OpenCC's ``t2s`` table:
   ``張`` → ``张``); the simplified Han characters alone form the name's *Han form*.
3. Everything that is not a letter or a digit -- spaces, the middle dots of transliterated
   names (``阿卜杜拉·买买提``), hyphens, apostrophes, commas -- separates words and is dropped.
   Latin letters lose their accents (``Müller`` → ``muller``).
4. Each Han character becomes its tone-less pinyin syllable, read alone
   (:func:`ewallet.kit.pinyin.character_syllables`: a name is not a dictionary word, and
   reading it as one read 陆佰 *liu bai* and 叶韵 *xie yun*), except the given-name
   characters of :data:`GIVEN_NAME_READINGS`; ``ü`` is written ``u`` and the Latin
   spellings ``lv``/``lyu``/``nv``/``nyu`` become ``lu``/``nu``, so 吕 and "Lyu" meet.
   Latin words stay as they are. The syllables and words joined by single spaces are a
   *pinyin key*: 張三, 张三, "ZHANG San" and "Zhang  san" all give ``zhang san``.

Polyphonic characters: a character's usual reading is usually right for given names but
often wrong for surnames, whose reading differs from the everyday one (单 is *shan* as a
surname, not *dan*; 曾 is *zeng*, not *ceng*). So when a Han name starts with one of the
polyphonic surnames of :data:`SURNAME_READINGS`, each of its surname readings adds a key
(at most :data:`MAX_KEYS` keys, the in-context reading first). The table is ours and short
on purpose: pypinyin's full list of readings (``heteronym=True``) has archaic ones too (方
also reads *wang*), and a key for each of those would match 方 with every 王.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from opencc import OpenCC  # type: ignore[import-untyped]

from ewallet.kit.pinyin import character_syllables

MAX_KEYS: Final = 3
# Polyphonic characters whose reading as a surname differs from (or adds to) the everyday
# one, with their surname readings, the usual first.
SURNAME_READINGS: Final[dict[str, tuple[str, ...]]] = {
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "查": ("zha",),
    "朴": ("piao",),
    "盖": ("ge", "gai"),
    "乐": ("yue", "le"),
    "缪": ("miao",),
    "覃": ("qin", "tan"),
    "翟": ("zhai", "di"),
    "召": ("shao",),
    "种": ("chong",),
    "员": ("yun", "yuan"),
    "黑": ("he", "hei"),
    "句": ("gou",),
    "繁": ("po",),
    "秘": ("bi",),
    "折": ("she",),
    "薄": ("bo",),
    "尉": ("yu", "wei"),
    "隗": ("wei", "kui"),
    "郇": ("xun", "huan"),
    "柏": ("bai", "bo"),
    "宓": ("mi", "fu"),
    "贲": ("ben", "bi"),
    "费": ("fei", "bi"),
    "牟": ("mou", "mu"),
    "能": ("nai",),
    "祭": ("zhai",),
    "洗": ("xian",),
    "长": ("zhang", "chang"),
}
# Characters whose usual reading alone is not their usual one in a given name: 长 reads
# *zhang* alone (to grow) but *chang* in 长青 or 长江; 重 *chong* as in 重阳; 晟 *sheng*.
# Not applied to a name's first character (the surname: SURNAME_READINGS above).
GIVEN_NAME_READINGS: Final[dict[str, str]] = {"长": "chang", "重": "chong", "晟": "sheng"}
_HAN: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
# A run of Han characters, or a run of other letters and digits: the words of a name.
_WORDS: Final = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+|[^\W_]+"
)
# Latin spellings of the ü syllables, as passports (lyu) and keyboards (lv) write them.
_U_SPELLINGS: Final = {"lv": "lu", "lyu": "lu", "nv": "nu", "nyu": "nu", "lve": "lue", "nve": "nue"}


@dataclass(frozen=True, slots=True)
class NormalisedName:
    """A name's comparable forms: ``han`` (simplified Han characters, None if it has none)
    and ``keys`` (tone-less pinyin keys, the in-context reading first; empty if the name
    had no letter or digit at all)."""

    han: str | None
    keys: tuple[str, ...]

    @property
    def key(self) -> str:
        """The first (in-context) pinyin key, ``""`` for an empty name."""
        return self.keys[0] if self.keys else ""


@lru_cache(maxsize=1)
def _converter() -> OpenCC:
    return OpenCC("t2s")


def simplified(text: str) -> str:
    """``text`` with traditional Han characters converted to simplified ones."""
    return str(_converter().convert(text))


def _latin_word(word: str) -> str:
    """A non-Han word without accents, ü spellings unified."""
    bare = "".join(
        ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch)
    )
    return _U_SPELLINGS.get(bare, bare)


def _syllable(reading: str) -> str:
    return reading.replace("v", "u")


def _han_readings(run: str, *, starts_name: bool) -> list[str]:
    readings = character_syllables(run)
    for at, character in enumerate(run):
        if character in GIVEN_NAME_READINGS and not (starts_name and at == 0):
            readings[at] = GIVEN_NAME_READINGS[character]
    return [_syllable(reading) for reading in readings]


def normalise_name(raw: str) -> NormalisedName:
    """The comparable forms of ``raw`` (see the module docstring for the steps)."""
    text = simplified(unicodedata.normalize("NFKC", raw).casefold())
    words = _WORDS.findall(text)
    han = "".join(word for word in words if _HAN.match(word)) or None
    syllables: list[str] = []
    first_han_at: int | None = None
    for word in words:
        if _HAN.match(word):
            starts_name = first_han_at is None
            if starts_name:
                first_han_at = len(syllables)
            syllables.extend(_han_readings(word, starts_name=starts_name))
        else:
            syllables.append(_latin_word(word))
    if not syllables:
        return NormalisedName(han, ())
    keys = [" ".join(syllables)]
    if first_han_at is not None and han is not None:
        for reading in SURNAME_READINGS.get(han[0], ()):
            if len(keys) >= MAX_KEYS:
                break
            variant = syllables.copy()
            variant[first_han_at] = reading
            key = " ".join(variant)
            if key not in keys:
                keys.append(key)
    return NormalisedName(han, tuple(keys))


def compact(key: str) -> str:
    """A pinyin key without its spaces: ``zhangsan`` meets ``zhang san``."""
    return key.replace(" ", "")


def initials(key: str) -> str:
    """The first letter of each syllable or word: ``zhang san`` → ``zs``."""
    return "".join(word[0] for word in key.split(" ") if word)


def blocking_keys(keys: tuple[str, ...]) -> frozenset[str]:
    """The index buckets a name is filed under (docs/risk-watchlist.md, "Matching").

    Two names that can score at or above any sensible threshold share one: every word of
    a key (``t:zhang``, ``t:san``: a near-miss keeps at least one word in a name of two or
    more, and a reversed Western order keeps all) and the first three letters of the
    compact key (``p:zha``: ``zhangsan`` written as one word).
    """
    blocks: set[str] = set()
    for key in keys:
        blocks.update(f"t:{word}" for word in key.split(" ") if word)
        blocks.add(f"p:{compact(key)[:3]}")
    return frozenset(blocks)
