"""The app's help search: an index built from the database, rebuilt when articles change.

Freshness: an edit through this process invalidates the index at once. Edits made by another
process (another API worker, ``ewallet help import``) are noticed by comparing a cheap
stamp of the tables (article count, newest revision id, newest article change) at most
once per :data:`CHECK_SECONDS`; a changed stamp rebuilds the index. Building runs in a worker
thread (jieba is CPU-bound), so requests keep flowing meanwhile.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.help import repository as repo
from ewallet.help import service, text
from ewallet.help.index import Document, SearchIndex
from ewallet.kit.db.uow import UnitOfWork, run_unit

CHECK_SECONDS: Final = 2.0
SUMMARY_CHARS: Final = 120
_MARKDOWN: Final = re.compile(r"[#*_`>|\[\]]+|\(\s*/[^)]*\)|^\s*[-+]\s+|^\s*\d+\.\s+", re.M)


@dataclass(frozen=True, slots=True)
class Result:
    article: service.Article
    score: float


@dataclass(frozen=True, slots=True)
class _Snapshot:
    index: SearchIndex
    articles: dict[str, service.Article]
    stamp: tuple[int, int, Any]


def summary(body: str, limit: int = SUMMARY_CHARS) -> str:
    """The start of an article as plain text, for a result list."""
    plain = " ".join(_MARKDOWN.sub(" ", body).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def documents(articles: list[service.Article]) -> list[Document]:
    return [
        Document(article.id, locale, version.title, version.body, version.tags)
        for article in articles
        for locale, version in sorted(article.versions.items())
    ]


async def _stamp(engine: AsyncEngine) -> tuple[int, int, Any]:
    async def work(uow: UnitOfWork) -> tuple[int, int, Any]:
        return await repo.index_stamp(await uow.connection())

    return await run_unit(engine, work, read_only=True)


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

    async def _current(self, engine: AsyncEngine) -> _Snapshot:
        async with self._lock:
            now = self._monotonic()
            snapshot = self._snapshot
            if (
                snapshot is not None
                and not self._stale
                and now - self._checked_at < self._check_seconds
            ):
                return snapshot
            stamp = await _stamp(engine)
            self._checked_at = now
            if snapshot is not None and not self._stale and stamp == snapshot.stamp:
                return snapshot
            articles = await service.list_articles(engine, published_only=True)
            index = await asyncio.to_thread(_build, documents(articles))
            self._snapshot = _Snapshot(index, {a.id: a for a in articles}, stamp)
            self._stale = False
            return self._snapshot

    async def search(self, engine: AsyncEngine, query: str, *, limit: int) -> list[Result]:
        snapshot = await self._current(engine)
        hits = snapshot.index.search(query, limit=limit)
        return [Result(snapshot.articles[hit.article_id], hit.score) for hit in hits]

    async def browse(self, engine: AsyncEngine, *, limit: int) -> list[service.Article]:
        """Published articles by category and slug (an empty query lists them)."""
        snapshot = await self._current(engine)
        ordered = sorted(snapshot.articles.values(), key=lambda a: (a.category, a.slug))
        return ordered[:limit]


def app_help_search(app: Any) -> HelpSearch:
    """The app's search, made on first use (one per app, i.e. per process and test)."""
    search: HelpSearch | None = getattr(app.state, "help_search", None)
    if search is None:
        search = HelpSearch()
        app.state.help_search = search
    return search
