"""An in-memory BM25 index over help articles, one document per article and language.

Why in Python and in memory: a help centre has tens to a few hundred articles, so the whole
index is a few hundred kilobytes and builds in well under a second; it ranks identically on
SQLite and PostgreSQL because neither database's full-text search is involved (SQLite has
no jieba, PostgreSQL's parsers do not cut Chinese).

Scoring is Okapi BM25 (k1 = 2.0, b = 0.75) over terms from :mod:`ewallet.help.text`; k1
is above the textbook 1.2 so that a word repeated in title and tags keeps counting. A
document's term frequency counts the title three times, the tags twice and the body once:
a question's words in a title say more than in a passing sentence. Query terms carry
weights: the words typed 1.0, their synonyms and typo corrections less, the Chinese
character bigrams (the fallback for words jieba cut differently) less again. A Latin query
word the index does not know is also tried as pinyin (``jdf`` finds 交电费, ``zhuxiao``
注销) against the pinyin keys of titles and tags. An article scores the best of its
language versions, so a Chinese query finds an article whichever language the reader asked
to read it in. :meth:`SearchIndex.coverage` says how sure a result is and
:meth:`SearchIndex.closest` finds something for a query no word of which matched, so the
help centre never answers with nothing (``ewallet.help.search.HelpSearch.answer``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ewallet.help import text

K1: Final = 2.0
B: Final = 0.75
TITLE_WEIGHT: Final = 3
TAGS_WEIGHT: Final = 2
SYNONYM_WEIGHT: Final = 0.4
TYPO_WEIGHT: Final = 0.7
BIGRAM_WEIGHT: Final = 0.3
PINYIN_WEIGHT: Final = 0.8


@dataclass(frozen=True, slots=True)
class Document:
    """One language version of an article, as the index sees it."""

    article_id: str
    locale: str
    title: str
    body: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    article_id: str
    score: float
    locale: str  # the language version that matched best


@dataclass(frozen=True, slots=True)
class _Indexed:
    article_id: str
    locale: str
    frequencies: Counter[str]
    length: float


def weighted_terms(document: Document) -> Counter[str]:
    counts: Counter[str] = Counter()
    for field_text, weight in (
        (document.title, TITLE_WEIGHT),
        (" ".join(document.tags), TAGS_WEIGHT),
        (document.body, 1),
    ):
        for term in text.terms(field_text):
            counts[term] += weight
    for field_text, weight in (
        (document.title, TITLE_WEIGHT),
        (" ".join(document.tags), TAGS_WEIGHT),
    ):
        for key in text.pinyin_keys(field_text):
            counts[key] += weight
    return counts


class SearchIndex:
    """BM25 over :class:`Document` s; immutable once built (rebuild to change)."""

    def __init__(self, documents: Iterable[Document]) -> None:
        documents = list(documents)
        self._grams = {
            (d.article_id, d.locale): text.character_grams(" ".join((d.title, *d.tags)))
            for d in documents
        }
        gram_frequency = Counter(gram for grams in self._grams.values() for gram in grams)
        self._gram_idf = {
            gram: math.log(1 + len(self._grams) / count) for gram, count in gram_frequency.items()
        }
        self._documents = [
            _Indexed(d.article_id, d.locale, counts, float(sum(counts.values())))
            for d in documents
            for counts in (weighted_terms(d),)
        ]
        self._document_frequency: Counter[str] = Counter()
        for indexed in self._documents:
            self._document_frequency.update(indexed.frequencies.keys())
        total = sum(d.length for d in self._documents)
        self._average_length = total / len(self._documents) if self._documents else 1.0
        self.vocabulary = frozenset(self._document_frequency)
        # What an English typo may be corrected to: indexed words and known synonyms.
        self._correctable = sorted(
            term
            for term in self.vocabulary | text.SYNONYMS.keys()
            if not text.is_cjk(term)
            and not term.startswith((text.BIGRAM_PREFIX, text.PINYIN_PREFIX))
        )

    def __len__(self) -> int:
        return len(self._documents)

    def idf(self, term: str) -> float:
        n = self._document_frequency.get(term, 0)
        return math.log(1 + (len(self._documents) - n + 0.5) / (n + 0.5))

    def _expansions(self, word: str) -> dict[str, float]:
        """A typed word with its synonyms and, for an unknown English word, its corrections."""
        found = {word: 1.0}
        for synonym in text.synonyms(word):
            found.setdefault(synonym, SYNONYM_WEIGHT)
        if word not in self.vocabulary and word not in text.SYNONYMS:
            for corrected in text.corrections(word, self._correctable):
                found[corrected] = max(found.get(corrected, 0.0), TYPO_WEIGHT)
                for synonym in text.synonyms(corrected):
                    weight = TYPO_WEIGHT * SYNONYM_WEIGHT
                    found[synonym] = max(found.get(synonym, 0.0), weight)
        return found

    def _units(self, query: str) -> list[dict[str, float]]:
        """Each query word with the terms that stand for it (synonyms, corrections, pinyin)."""
        units: dict[str, dict[str, float]] = {}
        for word in text.words(query):
            if word not in units:
                units[word] = self._expansions(word)
        for key in text.pinyin_candidates(query):
            word = text.stem(key[1:])
            if word not in self.vocabulary and word not in text.SYNONYMS:
                units.setdefault(word, {})[key] = PINYIN_WEIGHT  # not an English word we use
        return list(units.values())

    def query_terms(self, query: str) -> dict[str, float]:
        """The weighted terms a query looks for: typed words, synonyms, corrections, pinyin,
        bigrams."""
        weights: dict[str, float] = {}
        for unit in self._units(query):
            for term, weight in unit.items():
                weights[term] = max(weights.get(term, 0.0), weight)
        for bigram in text.bigrams(query):
            weights[bigram] = max(weights.get(bigram, 0.0), BIGRAM_WEIGHT)
        return {term: weight for term, weight in weights.items() if term in self.vocabulary}

    def coverage(self, query: str, article_id: str) -> float:
        """The share of the query's words an article has (itself, a synonym, a correction or
        its pinyin; bigrams do not count): how sure a result is, whatever its BM25 scale."""
        units = self._units(query)
        if not units:
            return 0.0
        best = 0
        for document in self._documents:
            if document.article_id == article_id:
                found = sum(any(term in document.frequencies for term in unit) for unit in units)
                best = max(best, found)
        return best / len(units)

    def closest(self, query: str, *, limit: int) -> list[Hit]:
        """The fallback when no word matched: articles sharing single Chinese characters or
        Latin letter trigrams with the query in their titles and tags, by summed rarity."""
        wanted = text.character_grams(query)
        if not wanted:
            return []
        best: dict[str, Hit] = {}
        for document in self._documents:
            shared = wanted & self._grams[document.article_id, document.locale]
            score = sum(self._gram_idf[gram] for gram in shared)
            current = best.get(document.article_id)
            if score > 0 and (current is None or score > current.score):
                best[document.article_id] = Hit(document.article_id, score, document.locale)
        return sorted(best.values(), key=lambda hit: (-hit.score, hit.article_id))[:limit]

    def search(self, query: str, *, limit: int = 10) -> list[Hit]:
        """Articles by falling score (best language version each); none for an empty query."""
        wanted = self.query_terms(query)
        if not wanted:
            return []
        best: dict[str, Hit] = {}
        for document in self._documents:
            score = self._score(document, wanted)
            if score <= 0:
                continue
            current = best.get(document.article_id)
            if current is None or score > current.score:
                best[document.article_id] = Hit(document.article_id, score, document.locale)
        ranked = sorted(best.values(), key=lambda hit: (-hit.score, hit.article_id))
        return ranked[:limit]

    def _score(self, document: _Indexed, wanted: dict[str, float]) -> float:
        norm = K1 * (1 - B + B * document.length / self._average_length)
        score = 0.0
        for term, weight in wanted.items():
            frequency = document.frequencies.get(term, 0)
            if frequency:
                score += weight * self.idf(term) * frequency * (K1 + 1) / (frequency + norm)
        return score
