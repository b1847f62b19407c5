"""SQL of help articles, revisions and feedback; rows come back as typed frozen copies.

Every function runs on the caller's connection and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.help import ArticleStatus
from ewallet.models.tables import help_article_revisions as revisions
from ewallet.models.tables import help_articles as articles
from ewallet.models.tables import help_feedback as feedback


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: str
    slug: str
    category: str
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RevisionRow:
    article_id: str
    locale: str
    revision: int
    title: str
    body: str
    tags: str  # comma-separated
    source: str
    author_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FeedbackCount:
    article_id: str
    helpful: int
    not_helpful: int


IndexStamp = tuple[int, int, datetime | None]


def _article(row: Row[Any]) -> ArticleRow:
    return ArticleRow(row.id, row.slug, row.category, row.status, row.created_at, row.updated_at)


def _revision(row: Row[Any]) -> RevisionRow:
    return RevisionRow(
        row.article_id,
        row.locale,
        int(row.revision),
        row.title,
        row.body,
        row.tags,
        row.source,
        row.author_id,
        row.created_at,
    )


async def any_article(conn: AsyncConnection) -> bool:
    statement = select(literal(1)).select_from(articles).limit(1)
    return (await conn.execute(statement)).first() is not None


async def article_by_ref(
    conn: AsyncConnection, ref: str, *, for_update: bool = False
) -> ArticleRow | None:
    """The article whose id or slug is ``ref`` (locked ``FOR UPDATE`` when asked)."""
    statement = select(articles).where((articles.c.id == ref) | (articles.c.slug == ref))
    if for_update:
        statement = statement.with_for_update()
    row = (await conn.execute(statement)).first()
    return None if row is None else _article(row)


async def all_articles(conn: AsyncConnection, *, published_only: bool = False) -> list[ArticleRow]:
    statement = select(articles).order_by(articles.c.category, articles.c.slug)
    if published_only:
        statement = statement.where(articles.c.status == ArticleStatus.PUBLISHED)
    return [_article(row) for row in await conn.execute(statement)]


async def insert_articles(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(insert(articles), rows)


async def update_article(conn: AsyncConnection, article_id: str, **values: Any) -> None:
    await conn.execute(update(articles).where(articles.c.id == article_id).values(**values))


async def insert_revisions(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(insert(revisions), rows)


async def current_versions(
    conn: AsyncConnection, article_ids: list[str] | None = None
) -> list[RevisionRow]:
    """The current revision of each language of each article (of ``article_ids``, or all)."""
    latest = (
        select(
            revisions.c.article_id,
            revisions.c.locale,
            func.max(revisions.c.revision).label("revision"),
        )
        .group_by(revisions.c.article_id, revisions.c.locale)
        .subquery("latest")
    )
    statement = select(revisions).join(
        latest,
        and_(
            latest.c.article_id == revisions.c.article_id,
            latest.c.locale == revisions.c.locale,
            latest.c.revision == revisions.c.revision,
        ),
    )
    if article_ids is not None:
        statement = statement.where(revisions.c.article_id.in_(article_ids))
    return [_revision(row) for row in await conn.execute(statement.order_by(revisions.c.id))]


async def revision_history(conn: AsyncConnection, article_id: str) -> list[RevisionRow]:
    statement = (
        select(revisions)
        .where(revisions.c.article_id == article_id)
        .order_by(revisions.c.locale, revisions.c.revision.desc())
    )
    return [_revision(row) for row in await conn.execute(statement)]


async def index_stamp(conn: AsyncConnection) -> IndexStamp:
    """What changes whenever anything searchable does: counts and the latest change."""
    statement = select(
        select(func.count()).select_from(articles).scalar_subquery(),
        select(func.coalesce(func.max(revisions.c.id), 0)).scalar_subquery(),
        select(func.max(articles.c.updated_at)).scalar_subquery(),
    )
    row = (await conn.execute(statement)).one()
    return int(row[0]), int(row[1]), row[2]


async def insert_feedback(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(feedback).values(**values))


async def feedback_counts(conn: AsyncConnection) -> list[FeedbackCount]:
    """Helpful and not-helpful answers of every article with at least one answer."""
    statement = select(
        feedback.c.article_id,
        func.sum(case((feedback.c.helpful.is_(True), 1), else_=0)).label("helpful"),
        func.sum(case((feedback.c.helpful.is_(False), 1), else_=0)).label("not_helpful"),
    ).group_by(feedback.c.article_id)
    return [
        FeedbackCount(row.article_id, int(row.helpful), int(row.not_helpful))
        for row in await conn.execute(statement)
    ]
