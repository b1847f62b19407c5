"""Turning help text and search queries into index terms, the same way for both.

Chinese runs are cut by jieba (with the wallet's own words added, so 支付密码 or 解绑 stay
whole) and also into character bigrams: jieba sometimes cuts a colloquial query differently
from the article, and the bigrams still meet (character *tri*grams would miss every
two-character word, the most common length). Latin runs become lowercased words with a
light suffix stemmer, after a few multi-word phrases ("top up", "payment password") are
joined into one word. Bigram terms carry a ``~`` prefix so they never collide with words.

Titles and tags also yield **pinyin keys** (``^`` prefix): the full tone-less pinyin and the
initials of each Chinese word and of each pair of neighbouring words (交电费 → ``^jdf``,
``^jiaodianfei``; 注销 → ``^zx``, ``^zhuxiao``), because people type "zfmm" or "zhuxiao" when
their keyboard is in Latin mode. Only titles and tags: they hold the phrases readers use, and
the body's thousands of pairs would turn every short Latin string into a match. Readings
come from :mod:`ewallet.kit.pinyin` (pypinyin without its big phrase dictionary) with the
wallet's polyphonic words of ``lexicon.PINYIN_PHRASES`` (银行 ``^yinhang``, 重置 ``^chongzhi``).

Query-only helpers live here too: synonym expansion (忘记 → 找回/重置, unbind → remove) and
English typo correction against the index vocabulary (edit distance 1, 2 for long words).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Final

from ewallet.help.lexicon import (
    EN_PHRASES,
    EN_STOPWORDS,
    PINYIN_PHRASES,
    SYNONYM_GROUPS,
    WALLET_WORDS,
    ZH_STOPWORDS,
)
from ewallet.kit import pinyin

if "pkg_resources" not in sys.modules:
    # jieba opens its dictionary through pkg_resources when it can import it, and with
    # open() when it cannot; pkg_resources scans every installed distribution at import
    # (5.6 MB per worker, nothing else of ours uses it), so jieba gets the open() path.
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
else:
    import jieba

jieba.setLogLevel(logging.WARNING)  # it announces every dictionary load on stderr otherwise
pinyin.add_phrases(PINYIN_PHRASES)  # at import: no request ever waits for it

BIGRAM_PREFIX: Final = "~"
PINYIN_PREFIX: Final = "^"
_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN: Final = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_IS_CJK: Final = re.compile(rf"[{_CJK}]")
_PHRASES: Final = [(re.compile(pattern), word) for pattern, word in EN_PHRASES]

_tokenizer: jieba.Tokenizer | None = None
_tokenizer_lock = threading.Lock()


def tokenizer() -> jieba.Tokenizer:
    """jieba with the wallet dictionary, built once per process (about half a second).

    A private ``jieba.Tokenizer`` rather than the global one, so our words never change how
    any other code in the process cuts text.
    """
    global _tokenizer  # noqa: PLW0603 - a lazily built, process-wide cache
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                built = jieba.Tokenizer()
                built.initialize()
                for word in WALLET_WORDS:
                    # A high frequency makes jieba prefer the whole word over its parts.
                    built.add_word(word, freq=200_000)
                _tokenizer = built
    return _tokenizer


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, and English phrases joined into single words."""
    folded = unicodedata.normalize("NFKC", text).lower()
    for pattern, word in _PHRASES:
        folded = pattern.sub(word, folded)
    return folded


def stem(word: str) -> str:
    """A light English stemmer: plural, -ed and -ing, a final e (charge/charged/charging)."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # stopped -> stop, but called -> call
            break
    if len(word) > 4 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


def is_cjk(term: str) -> bool:
    return bool(_IS_CJK.search(term))


def _cjk_words(run: str) -> Iterator[str]:
    for piece in tokenizer().cut_for_search(run):
        word = piece.strip()
        if word and word not in ZH_STOPWORDS:
            yield word


def _bigrams(run: str) -> Iterator[str]:
    for i in range(len(run) - 1):
        yield BIGRAM_PREFIX + run[i : i + 2]


def words(text: str) -> list[str]:
    """The word terms of ``text`` (jieba words and stemmed English), in order, repeats kept."""
    found: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if is_cjk(run):
            found.extend(_cjk_words(run))
        elif run not in EN_STOPWORDS:
            found.append(stem(run))
    return found


def bigrams(text: str) -> list[str]:
    """The character-bigram terms of the Chinese runs of ``text``."""
    found: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if is_cjk(run):
            found.extend(_bigrams(run))
    return found


def pinyin_keys(text: str) -> list[str]:
    """Pinyin keys of the Chinese words of ``text``, alone and in neighbouring pairs."""
    found: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if not is_cjk(run):
            continue
        pieces = [w for w in tokenizer().cut(run) if w.strip() and w not in ZH_STOPWORDS]
        syllables = [pinyin.syllables(piece) for piece in pieces]
        for start in range(len(pieces)):
            for end in range(start + 1, min(start + 2, len(pieces)) + 1):
                spoken = [s for word in syllables[start:end] for s in word]
                if len(spoken) < 2:  # one syllable, one letter: anything would match it
                    continue
                found.append(PINYIN_PREFIX + "".join(spoken))
                found.append(PINYIN_PREFIX + "".join(s[0] for s in spoken))
    return found


def pinyin_candidates(text: str) -> list[str]:
    """The Latin words of ``text`` that may be pinyin typed in Latin mode, unstemmed
    ("bangding" must stay whole) and as pinyin keys."""
    return [
        PINYIN_PREFIX + run
        for run in _RUN.findall(normalize(text))
        if run.isascii() and run.isalpha() and 2 <= len(run) <= 24 and run not in EN_STOPWORDS
    ]


_STOP_CHARACTERS: Final = frozenset("".join(ZH_STOPWORDS))


def character_grams(text: str) -> frozenset[str]:
    """Single Chinese characters (not those of question words) and Latin letter trigrams:
    the last resort of a query no word of which matched (see ``SearchIndex.closest``)."""
    found: set[str] = set()
    for run in _RUN.findall(normalize(text)):
        if is_cjk(run):
            found.update(char for char in run if char not in _STOP_CHARACTERS)
        elif run.isalpha() and run not in EN_STOPWORDS:
            found.update(run[i : i + 3] for i in range(len(run) - 2))
    return frozenset(found)


def terms(text: str) -> list[str]:
    """Everything the index stores for ``text``: words, then bigrams."""
    return words(text) + bigrams(text)


def _stemmed_group(group: Iterable[str]) -> frozenset[str]:
    return frozenset(member if is_cjk(member) else stem(normalize(member)) for member in group)


SYNONYMS: Final[dict[str, frozenset[str]]] = {}
for _group in map(_stemmed_group, SYNONYM_GROUPS):
    for _member in _group:
        SYNONYMS[_member] = SYNONYMS.get(_member, frozenset()) | (_group - {_member})


def synonyms(term: str) -> frozenset[str]:
    """Other words for ``term`` (already stemmed), or none."""
    return SYNONYMS.get(term, frozenset())


def within_edits(a: str, b: str, limit: int) -> bool:
    """Whether the optimal-string-alignment distance of ``a`` and ``b`` is at most ``limit``.

    Insertions, deletions, substitutions and swaps of neighbours each cost one ("withdrawl",
    "pasword", "recieve"). The row minimum bounds the final distance, so hopeless pairs
    stop early; the vocabulary is a few thousand words, small enough to scan.
    """
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[len(b)] <= limit


def typo_budget(term: str) -> int:
    """Edits allowed when correcting ``term``: none for short words (too many neighbours)."""
    if len(term) < 4:
        return 0
    return 1 if len(term) < 8 else 2


def corrections(term: str, vocabulary: Iterable[str]) -> list[str]:
    """Known English words within the typo budget of an unknown ``term``, nearest first."""
    budget = typo_budget(term)
    if budget == 0 or is_cjk(term):
        return []
    found: list[tuple[int, str]] = []
    for known in vocabulary:
        if known == term or is_cjk(known) or known.startswith(BIGRAM_PREFIX):
            continue
        for distance in range(1, budget + 1):
            if within_edits(term, known, distance):
                found.append((distance, known))
                break
    return [known for _, known in sorted(found)]
