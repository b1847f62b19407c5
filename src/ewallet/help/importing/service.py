"""Importing and exporting help articles as Markdown, and loading the packaged defaults.

Importing is idempotent: a file equal to an article's current text adds nothing, a file
that differs becomes the next revision of its language, a new slug a new article. The file
format is :mod:`ewallet.help.articles`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import structlog
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.help import repository as repo
from ewallet.help.articles import DEFAULT_DIR, ArticleSource, Translation, read_dir
from ewallet.help.service import add_revision, list_articles, load_articles, revision_values
from ewallet.help.views import ImportReport
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.help import RevisionSource
from ewallet.services import Services

log = structlog.get_logger("ewallet.help")
Outcome = Literal["created", "updated", "unchanged"]


async def export_articles(services: Services) -> list[ArticleSource]:
    """Every article's current text, hidden ones included (their status goes with them)."""
    return [
        ArticleSource(
            article.slug,
            article.category,
            {
                locale: Translation(version.title, version.body, version.tags)
                for locale, version in article.versions.items()
            },
            article.status,
        )
        for article in await list_articles(services, published_only=False)
    ]


def _article_row(article_id: str, article: ArticleSource, now: datetime) -> dict[str, Any]:
    return {
        "id": article_id,
        "slug": article.slug,
        "category": article.category,
        "status": article.status,
        "created_at": now,
        "updated_at": now,
    }


async def _apply_source(
    conn: AsyncConnection, article: ArticleSource, *, source: RevisionSource, now: datetime
) -> Outcome:
    row = await repo.article_by_ref(conn, article.slug, for_update=True)
    if row is None:
        article_id = new_id("hlp")
        await repo.insert_articles(conn, [_article_row(article_id, article, now)])
        for locale, translation in sorted(article.translations.items()):
            await add_revision(
                conn,
                article_id=article_id,
                locale=locale,
                revision=1,
                translation=translation,
                source=source,
                author_id=None,
                now=now,
            )
        return "created"
    found = await load_articles(conn, [row])
    versions = found[0].versions if found else {}
    changed = (row.category, row.status) != (article.category, article.status)
    for locale, translation in sorted(article.translations.items()):
        version = versions.get(locale)
        if version is not None and version.same_text(translation):
            continue
        changed = True
        await add_revision(
            conn,
            article_id=row.id,
            locale=locale,
            revision=(version.revision if version else 0) + 1,
            translation=translation,
            source=source,
            author_id=None,
            now=now,
        )
    if not changed:
        return "unchanged"
    await repo.update_article(
        conn, row.id, category=article.category, status=article.status, updated_at=now
    )
    return "updated"


async def import_articles(
    services: Services,
    actor: Actor | None,
    *,
    articles: Sequence[ArticleSource],
    source: RevisionSource = RevisionSource.IMPORT,
) -> ImportReport:
    """Create missing articles and add a revision where a file differs from the current text.

    With an ``actor`` (the CLI), a change is also one audit event listing what changed. One
    unit of work: a refused file (an unknown locale) imports nothing.
    """

    async def work(uow: UnitOfWork) -> ImportReport:
        conn = await uow.connection()
        now = services.clock.now()
        outcomes: dict[Outcome, list[str]] = {"created": [], "updated": [], "unchanged": []}
        for article in articles:
            outcomes[await _apply_source(conn, article, source=source, now=now)].append(
                article.slug
            )
        if actor is not None and (outcomes["created"] or outcomes["updated"]):
            await record_event(
                conn,
                clock=services.clock,
                actor=actor,
                action="help.articles_imported",
                subject_type="help_article",
                details={"created": outcomes["created"], "updated": outcomes["updated"]},
            )
        return ImportReport(
            len(outcomes["created"]), len(outcomes["updated"]), len(outcomes["unchanged"])
        )

    return await run_unit(services.engine, work)


@functools.cache
def _packaged(directory: Path) -> tuple[ArticleSource, ...]:
    """The files of ``directory``, read once per process (package data does not change)."""
    return tuple(read_dir(directory))


async def _bulk_create(
    conn: AsyncConnection,
    sources: Sequence[ArticleSource],
    *,
    source: RevisionSource,
    now: datetime,
) -> int:
    """Insert every article and its first revisions in two statements (an empty table)."""
    article_rows: list[dict[str, Any]] = []
    revision_rows: list[dict[str, Any]] = []
    for article in sources:
        article_id = new_id("hlp")
        article_rows.append(_article_row(article_id, article, now))
        revision_rows.extend(
            revision_values(
                article_id=article_id,
                locale=locale,
                revision=1,
                translation=translation,
                source=source,
                author_id=None,
                now=now,
            )
            for locale, translation in sorted(article.translations.items())
        )
    if article_rows:
        await repo.insert_articles(conn, article_rows)
        await repo.insert_revisions(conn, revision_rows)
    return len(article_rows)


async def load_defaults_if_empty(services: Services, *, directory: Path = DEFAULT_DIR) -> int:
    """Load the packaged articles into an empty table; the number created (0 if not empty).

    Cheap either way: one indexed read when there are articles, two bulk inserts when there
    are none. Two processes starting together may both find the table empty: the second
    one's insert meets the unique slug and is dropped, which is the outcome wanted. A
    database without the help tables (not migrated) or out of reach is logged and ignored,
    so it never stops the app from starting.
    """

    async def empty(uow: UnitOfWork) -> bool:
        return not await repo.any_article(await uow.connection())

    async def load(uow: UnitOfWork) -> int:
        conn = await uow.connection()
        if await repo.any_article(conn):
            return 0
        sources = _packaged(directory)
        return await _bulk_create(
            conn, sources, source=RevisionSource.DEFAULTS, now=services.clock.now()
        )

    try:
        if not await run_unit(services.engine, empty, read_only=True):
            return 0
        created = await run_unit(services.engine, load)
    except IntegrityError:
        return 0  # another process loaded them first
    except (SQLAlchemyError, OSError) as error:
        # Unmigrated or unreachable: readiness reports the database; starting goes on.
        log.warning("help.defaults_not_loaded", error=type(error).__name__)
        return 0
    log.info("help.defaults_loaded", articles=created)
    return created
