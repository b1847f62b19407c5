"""The app's help search index: built from the published articles, rebuilt when they change.

An adapter around :class:`ewallet.help.index.SearchIndex` holding no database of its own:
:mod:`ewallet.help.service` hands it two loaders (the tables' stamp, the published articles)
and it decides when to call them. Freshness: an edit through this process invalidates the
index at once. Edits made by another process (another API worker, ``ewallet help import``)
are noticed by comparing a cheap stamp of the tables (article count, newest revision id,
newest article change) at most once per :data:`CHECK_SECONDS`; a changed stamp rebuilds the
index. Building runs in a worker thread (jieba is CPU-bound), so requests keep flowing.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Final

from ewallet.help import text
from ewallet.help.index import Document, Hit, SearchIndex
from ewallet.help.views import Answer, Article, Found, Match

CHECK_SECONDS: Final = 2.0
# A result is a good match when its article has at least this share of the query's words
# (``SearchIndex.coverage``); below it the answer is "weak" and offers a person as well.
GOOD_COVERAGE: Final = 0.5
# What a query with nothing in common with any article is shown: how to reach us.
LAST_RESORT_CATEGORY: Final = "support"
SUMMARY_CHARS: Final = 120
# Emphasis and code marks (dropped), then other marks, links' targets, list bullets and
# tables' |---|---| rules (each a space).
_EMPHASIS: Final = re.compile(r"\*+|`+")
_MARKDOWN: Final = re.compile(
    r"^\s*\|?[\s:|-]*-{3,}[\s:|-]*$|[#_>|\[\]]+|\(\s*/[^)]*\)|^\s*[-+]\s+|^\s*\d+\.\s+", re.M
)

StampLoader = Callable[[], Awaitable[Hashable]]
ArticlesLoader = Callable[[], Awaitable[list[Article]]]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    index: SearchIndex
    articles: dict[str, Article]
    stamp: Hashable


def summary(body: str, limit: int = SUMMARY_CHARS) -> str:
    """The start of an article as plain text, for a result list."""
    plain = " ".join(_MARKDOWN.sub(" ", _EMPHASIS.sub("", body)).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def documents(articles: list[Article]) -> list[Document]:
    return [
        Document(article.id, locale, version.title, version.body, version.tags)
        for article in articles
        for locale, version in sorted(article.versions.items())
    ]


def _build(docs: list[Document]) -> SearchIndex:
    text.tokenizer()  # loaded here, off the event loop, even when there is nothing to index
    return SearchIndex(docs)


class HelpSearch:
    """The index of published articles for one app (one per process)."""

    def __init__(
        self,
        *,
        check_seconds: float = CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check_seconds = check_seconds
        self._monotonic = monotonic
        self._snapshot: _Snapshot | None = None
        self._checked_at = 0.0
        self._stale = True
        self._lock = asyncio.Lock()  # one rebuild at a time; correctness never depends on it

    def invalidate(self) -> None:
        """Rebuild before the next search (an article changed through this process)."""
        self._stale = True

    async def _current(self, stamp: StampLoader, load: ArticlesLoader) -> _Snapshot:
        async with self._lock:
            now = self._monotonic()
            snapshot = self._snapshot
            if (
                snapshot is not None
                and not self._stale
                and now - self._checked_at < self._check_seconds
            ):
                return snapshot
            current = await stamp()
            self._checked_at = now
            if snapshot is not None and not self._stale and current == snapshot.stamp:
                return snapshot
            articles = await load()
            index = await asyncio.to_thread(_build, documents(articles))
            self._snapshot = _Snapshot(index, {a.id: a for a in articles}, current)
            self._stale = False
            return self._snapshot

    async def search(
        self, query: str, *, limit: int, stamp: StampLoader, load: ArticlesLoader
    ) -> list[Found]:
        """Articles by falling score (none for a query without searchable words)."""
        snapshot = await self._current(stamp, load)
        hits = snapshot.index.search(query, limit=limit)
        return [Found(snapshot.articles[hit.article_id], hit.score) for hit in hits]

    async def browse(self, *, limit: int, stamp: StampLoader, load: ArticlesLoader) -> list[Found]:
        """Published articles by category and slug (an empty query lists them), unscored."""
        snapshot = await self._current(stamp, load)
        ordered = sorted(snapshot.articles.values(), key=lambda a: (a.category, a.slug))
        return [Found(article, None) for article in ordered[:limit]]

    async def answer(
        self, query: str, *, limit: int, stamp: StampLoader, load: ArticlesLoader
    ) -> Answer:
        """Never an empty list for a query: the ranked articles when the best one has most of
        the query's words (``good``); otherwise (``weak``) those hits, then articles sharing
        characters or letter trigrams with it, then the support articles."""
        snapshot = await self._current(stamp, load)
        index = snapshot.index
        hits = index.search(query, limit=limit)
        if hits and index.coverage(query, hits[0].article_id) >= GOOD_COVERAGE:
            return Answer(self._found(snapshot, hits), Match.GOOD)
        chosen = list(hits)
        for hit in index.closest(query, limit=limit):
            if all(hit.article_id != known.article_id for known in chosen):
                chosen.append(hit)
        found = self._found(snapshot, chosen[:limit])
        if not found:
            support = sorted(
                (a for a in snapshot.articles.values() if a.category == LAST_RESORT_CATEGORY),
                key=lambda article: article.slug,
            )
            found = [Found(article, None) for article in support[:limit]]
        return Answer(found, Match.WEAK)

    @staticmethod
    def _found(snapshot: _Snapshot, hits: list[Hit]) -> list[Found]:
        return [Found(snapshot.articles[hit.article_id], hit.score) for hit in hits]
