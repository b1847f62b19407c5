"""SQL of help articles, revisions and feedback; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import help_article_revisions as revisions
from ewallet.models.tables import help_articles as articles
from ewallet.models.tables import help_feedback as feedback


async def any_article(conn: AsyncConnection) -> bool:
    return (
        await conn.execute(select(literal(1)).select_from(articles).limit(1))
    ).first() is not None


async def article_by_ref(conn: AsyncConnection, ref: str, *, for_update: bool = False) -> Any:
    """The article whose id or slug is ``ref``."""
    statement = select(articles).where((articles.c.id == ref) | (articles.c.slug == ref))
    if for_update:
        statement = statement.with_for_update()
    return (await conn.execute(statement)).first()


async def all_articles(conn: AsyncConnection, *, published_only: bool = False) -> list[Any]:
    statement = select(articles).order_by(articles.c.category, articles.c.slug)
    if published_only:
        statement = statement.where(articles.c.status == "published")
    return list((await conn.execute(statement)).all())


async def insert_article(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(articles).values(**values))


async def insert_articles(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(insert(articles), rows)


async def update_article(conn: AsyncConnection, article_id: str, **values: Any) -> None:
    await conn.execute(update(articles).where(articles.c.id == article_id).values(**values))


async def insert_revisions(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(insert(revisions), rows)


def _current_revisions() -> Any:
    """(article_id, locale, highest revision) of every language version."""
    return (
        select(
            revisions.c.article_id,
            revisions.c.locale,
            func.max(revisions.c.revision).label("revision"),
        )
        .group_by(revisions.c.article_id, revisions.c.locale)
        .subquery("latest")
    )


async def current_versions(
    conn: AsyncConnection, article_ids: list[str] | None = None
) -> list[Any]:
    """The current revision of each language of each article (of ``article_ids``, or all)."""
    latest = _current_revisions()
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
    return list((await conn.execute(statement.order_by(revisions.c.id))).all())


async def revision_history(conn: AsyncConnection, article_id: str) -> list[Any]:
    statement = (
        select(revisions)
        .where(revisions.c.article_id == article_id)
        .order_by(revisions.c.locale, revisions.c.revision.desc())
    )
    return list((await conn.execute(statement)).all())


async def index_stamp(conn: AsyncConnection) -> tuple[int, int, datetime | None]:
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


async def feedback_counts(conn: AsyncConnection) -> list[Any]:
    """(article_id, helpful, not_helpful) for every article with at least one answer."""
    statement = select(
        feedback.c.article_id,
        func.sum(case((feedback.c.helpful.is_(True), 1), else_=0)).label("helpful"),
        func.sum(case((feedback.c.helpful.is_(False), 1), else_=0)).label("not_helpful"),
    ).group_by(feedback.c.article_id)
    return list((await conn.execute(statement)).all())
