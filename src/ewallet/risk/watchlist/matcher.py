"""The in-memory watch-list index and the matching rules (pure: no I/O).

An :class:`WatchlistIndex` is built once from every entry's stored normalised forms and
answers :meth:`WatchlistIndex.match` in about a millisecond for 100,000 entries
(``make bench-watchlist``). The rules (docs/risk-watchlist.md, "Matching"):

* the same ID number (keyed digests equal) → 100, whatever the names;
* the same simplified Han form → 100; the same pinyin key, spaces ignored → 100;
* otherwise the best of rapidfuzz's ``token_sort_ratio`` over the pinyin keys (word order
  ignored: "San Zhang" meets "Zhang San") and ``ratio`` over the compact keys ("zhangsan"
  against "zhang sam"), compared only with the entries of the same blocking bucket
  (:func:`~ewallet.risk.watchlist.normalise.blocking_keys`); a match needs a score of at
  least the threshold (``EWALLET_WATCHLIST_MATCH_THRESHOLD``);
* narrowing: when both the entry and the screened person have a date of birth and the
  dates differ, or both have an ID number and the numbers differ, it is not a match --
  one person has one birthday and one ID number.

Scores are whole numbers (rapidfuzz's score rounded down), so ``score >= threshold`` on
what is stored is exactly the rule that matched.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

from rapidfuzz import fuzz, process

from ewallet.models.risk_watchlist import MatchBasis
from ewallet.risk.watchlist.normalise import NormalisedName, blocking_keys, compact

MAX_MATCHES: Final = 20  # the best ones; a longer list helps no reviewer
_Consider = Callable[[int, int, MatchBasis], None]
_Scorer = Callable[..., float]


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    """One entry as the index holds it (its normalised forms read from the table)."""

    id: str
    list_name: str
    name: str
    han: str | None
    keys: tuple[str, ...]
    date_of_birth: date | None
    id_number_digest: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: IndexedEntry
    score: int
    basis: MatchBasis


@dataclass(frozen=True, slots=True)
class Screened:
    """Who is screened: the normalised name, and what can narrow the matches."""

    name: NormalisedName
    date_of_birth: date | None = None
    id_number_digest: str | None = None


class _Bucket:
    """The distinct keys filed under one blocking key, sorted by length, each with the
    entries that have it: a scan reads only the lengths that can reach the threshold."""

    __slots__ = ("_building", "choices", "lengths", "positions")

    def __init__(self) -> None:
        self._building: dict[str, list[int]] = {}
        self.choices: list[str] = []
        self.lengths: list[int] = []
        self.positions: list[list[int]] = []

    def add(self, choice: str, position: int) -> None:
        held = self._building.setdefault(choice, [])
        if not held or held[-1] != position:
            held.append(position)

    def freeze(self) -> None:
        ordered = sorted(self._building.items(), key=lambda item: len(item[0]))
        self.choices = [choice for choice, _ in ordered]
        self.lengths = [len(choice) for choice in self.choices]
        self.positions = [positions for _, positions in ordered]
        self._building = {}

    def within(self, length: int, threshold: int) -> tuple[int, int]:
        """The slice of choices whose length allows a score of ``threshold`` against a
        string of ``length``: an Indel ratio is at most ``1 - |a - b| / (a + b)``."""
        slack = 1 - threshold / 100
        if slack >= 1:
            return 0, len(self.choices)
        shortest = math.ceil(length * (1 - slack) / (1 + slack) - 1e-9)
        longest = math.floor(length * (1 + slack) / (1 - slack) + 1e-9)
        return bisect_left(self.lengths, shortest), bisect_right(self.lengths, longest)


class WatchlistIndex:
    """Every entry of every list, indexed for exact lookups and bucketed fuzzy scans."""

    def __init__(self, entries: Iterable[IndexedEntry]) -> None:
        self.entries: list[IndexedEntry] = list(entries)
        self._by_compact: dict[str, list[int]] = defaultdict(list)
        self._by_han: dict[str, list[int]] = defaultdict(list)
        self._by_digest: dict[str, list[int]] = defaultdict(list)
        self._words: dict[str, _Bucket] = defaultdict(_Bucket)  # "t:" buckets: spaced keys
        self._prefixes: dict[str, _Bucket] = defaultdict(_Bucket)  # "p:" buckets: compact keys
        for position, entry in enumerate(self.entries):
            if entry.han:
                self._by_han[entry.han].append(position)
            if entry.id_number_digest:
                self._by_digest[entry.id_number_digest].append(position)
            for key in entry.keys:
                self._by_compact[compact(key)].append(position)
            for block in blocking_keys(entry.keys):
                if block.startswith("t:"):
                    for key in entry.keys:
                        self._words[block].add(key, position)
                else:
                    for key in entry.keys:
                        if compact(key)[:3] == block[2:]:
                            self._prefixes[block].add(compact(key), position)
        for bucket in (*self._words.values(), *self._prefixes.values()):
            bucket.freeze()
        # Plain dicts from here on: a miss must not grow them.
        self._by_compact = dict(self._by_compact)
        self._by_han = dict(self._by_han)
        self._by_digest = dict(self._by_digest)
        self._words = dict(self._words)
        self._prefixes = dict(self._prefixes)

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, screened: Screened, *, threshold: int) -> list[Candidate]:
        """The entries ``screened`` matches (best first, at most :data:`MAX_MATCHES`)."""
        best: dict[int, tuple[int, MatchBasis]] = {}

        def consider(position: int, score: int, basis: MatchBasis) -> None:
            if score < threshold:
                return
            held = best.get(position)
            if held is None or score > held[0]:
                best[position] = (score, basis)

        if screened.id_number_digest:
            for position in self._by_digest.get(screened.id_number_digest, ()):
                best[position] = (100, MatchBasis.ID_NUMBER)
        self._exact(screened.name, consider)
        self._fuzzy(screened.name, threshold, consider)
        found = [
            Candidate(self.entries[position], score, basis)
            for position, (score, basis) in best.items()
            if basis is MatchBasis.ID_NUMBER or _narrowed_in(self.entries[position], screened)
        ]
        found.sort(key=lambda c: (-c.score, c.entry.list_name, c.entry.id))
        return found[:MAX_MATCHES]

    def _exact(self, name: NormalisedName, consider: _Consider) -> None:
        if name.han:
            for position in self._by_han.get(name.han, ()):
                consider(position, 100, MatchBasis.HAN)
        for key in name.keys:
            for position in self._by_compact.get(compact(key), ()):
                consider(position, 100, MatchBasis.PINYIN)

    def _fuzzy(self, name: NormalisedName, threshold: int, consider: _Consider) -> None:
        for block in blocking_keys(name.keys):
            if block.startswith("t:"):
                bucket = self._words.get(block)
                if bucket is not None:
                    for key in name.keys:
                        self._scan(bucket, key, fuzz.token_sort_ratio, threshold, consider)
            elif (bucket := self._prefixes.get(block)) is not None:
                for key in name.keys:
                    if compact(key)[:3] == block[2:]:
                        self._scan(bucket, compact(key), fuzz.ratio, threshold, consider)

    @staticmethod
    def _scan(
        bucket: _Bucket,
        query: str,
        scorer: _Scorer,
        threshold: int,
        consider: _Consider,
    ) -> None:
        start, stop = bucket.within(len(query), threshold)
        if start >= stop:
            return
        hits = process.extract(
            query,
            bucket.choices[start:stop],
            scorer=scorer,
            score_cutoff=threshold,
            limit=None,
        )
        for _choice, score, index in hits:
            for position in bucket.positions[start + index]:
                consider(position, math.floor(score), MatchBasis.FUZZY)


def _narrowed_in(entry: IndexedEntry, screened: Screened) -> bool:
    """False when a date of birth or an ID number known on both sides tells them apart."""
    born, screened_born = entry.date_of_birth, screened.date_of_birth
    if born and screened_born and born != screened_born:
        return False
    digest, screened_digest = entry.id_number_digest, screened.id_number_digest
    return not (digest and screened_digest and digest != screened_digest)
