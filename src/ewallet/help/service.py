"""Help articles: reading them, staff edits, feedback (importing is in ``importing``).

Every change of an article's text is a new revision of that language version (never an
update), written with who made it and when; a staff edit is also an audit event in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.service import record_event
from ewallet.help import repository as repo
from ewallet.help.articles import Translation
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.models.help import HELP_LOCALES
from ewallet.staff.principal import StaffPrincipal

Source = Literal["defaults", "import", "staff"]


@dataclass(frozen=True, slots=True)
class Version:
    """One revision of one language version."""

    locale: str
    revision: int
    title: str
    body: str
    tags: tuple[str, ...]
    source: str
    author_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> Version:
        tags = tuple(tag for tag in row.tags.split(",") if tag)
        return cls(
            row.locale,
            row.revision,
            row.title,
            row.body,
            tags,
            row.source,
            row.author_id,
            row.created_at,
        )

    def same_text(self, translation: Translation) -> bool:
        return (self.title, self.body.strip(), self.tags) == (
            translation.title,
            translation.body.strip(),
            translation.tags,
        )


@dataclass(frozen=True, slots=True)
class Article:
    """An article with the current version of each of its languages."""

    id: str
    slug: str
    category: str
    status: str
    created_at: datetime
    updated_at: datetime
    versions: dict[str, Version] = field(default_factory=dict)

    def version(self, locale: str) -> Version:
        """The version in ``locale``, else the other one (every article should have both)."""
        found = self.versions.get(locale)
        if found is not None:
            return found
        return next(iter(self.versions.values()))


@dataclass(frozen=True, slots=True)
class TranslationEdit:
    """A staff edit of one language; ``base_revision`` guards against overwriting a colleague."""

    translation: Translation
    base_revision: int | None = None


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    article_id: str
    slug: str
    title: str
    helpful: int
    not_helpful: int

    @property
    def total(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def helpful_ratio(self) -> float | None:
        return self.helpful / self.total if self.total else None


# Reading.


async def load_articles(conn: AsyncConnection, rows: Sequence[Any]) -> list[Article]:
    if not rows:
        return []
    by_id = {
        row.id: Article(row.id, row.slug, row.category, row.status, row.created_at, row.updated_at)
        for row in rows
    }
    for version in await repo.current_versions(conn, list(by_id)):
        by_id[version.article_id].versions[version.locale] = Version.of(version)
    return [article for article in by_id.values() if article.versions]


async def list_articles(engine: AsyncEngine, *, published_only: bool) -> list[Article]:
    async def work(uow: UnitOfWork) -> list[Article]:
        conn = await uow.connection()
        return await load_articles(
            conn, await repo.all_articles(conn, published_only=published_only)
        )

    return await run_unit(engine, work, read_only=True)


async def get_article(engine: AsyncEngine, ref: str, *, published_only: bool) -> Article:
    """The article with id or slug ``ref``; hidden ones only for staff (``published_only``)."""

    async def work(uow: UnitOfWork) -> Article:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref)
        if row is None or (published_only and row.status != "published"):
            raise NotFoundError("no such help article")
        [article] = await load_articles(conn, [row])
        return article

    return await run_unit(engine, work, read_only=True)


async def revision_history(engine: AsyncEngine, ref: str) -> tuple[Article, list[Version]]:
    async def work(uow: UnitOfWork) -> tuple[Article, list[Version]]:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref)
        if row is None:
            raise NotFoundError("no such help article")
        [article] = await load_articles(conn, [row])
        return article, [Version.of(r) for r in await repo.revision_history(conn, row.id)]

    return await run_unit(engine, work, read_only=True)


# Writing.


def revision_values(
    *,
    article_id: str,
    locale: str,
    revision: int,
    translation: Translation,
    source: Source,
    author_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    if locale not in HELP_LOCALES:
        raise ValidationFailedError(f"locale must be one of {', '.join(HELP_LOCALES)}")
    return {
        "article_id": article_id,
        "locale": locale,
        "revision": revision,
        "title": translation.title,
        "body": translation.body.strip() + "\n",
        # Tags are stored comma-separated, so a comma inside one becomes a space.
        "tags": ",".join(tag.replace(",", " ") for tag in translation.tags),
        "source": source,
        "author_id": author_id,
        "created_at": now,
    }


async def add_revision(conn: AsyncConnection, **values: Any) -> None:
    await repo.insert_revisions(conn, [revision_values(**values)])


def _require_both_locales(translations: dict[str, Any]) -> None:
    missing = [locale for locale in HELP_LOCALES if locale not in translations]
    if missing:
        raise ValidationFailedError(f"an article needs every language; missing: {missing}")


async def create_article(
    engine: AsyncEngine,
    *,
    clock: Clock,
    principal: StaffPrincipal,
    slug: str,
    category: str,
    status: str,
    translations: dict[str, Translation],
) -> Article:
    _require_both_locales(translations)

    async def work(uow: UnitOfWork) -> Article:
        conn = await uow.connection()
        if await repo.article_by_ref(conn, slug) is not None:
            raise ConflictError("an article with this slug exists")
        now = clock.now()
        article_id = new_id("hlp")
        await repo.insert_article(
            conn,
            id=article_id,
            slug=slug,
            category=category,
            status=status,
            created_at=now,
            updated_at=now,
        )
        for locale, translation in sorted(translations.items()):
            await add_revision(
                conn,
                article_id=article_id,
                locale=locale,
                revision=1,
                translation=translation,
                source="staff",
                author_id=principal.staff_id,
                now=now,
            )
        await record_event(
            conn,
            clock=clock,
            actor=principal.actor(),
            action="help.article_created",
            subject_type="help_article",
            subject_id=article_id,
            details={"slug": slug, "category": category, "status": status},
        )
        [article] = await load_articles(conn, [await repo.article_by_ref(conn, article_id)])
        return article

    return await run_unit(engine, work)


async def update_article(
    engine: AsyncEngine,
    *,
    clock: Clock,
    principal: StaffPrincipal,
    ref: str,
    category: str | None = None,
    status: str | None = None,
    edits: dict[str, TranslationEdit] | None = None,
) -> Article:
    """Apply a staff edit: a new revision per language whose text changed, and an audit event.

    An edit that changes nothing records nothing. ``base_revision`` that is no longer the
    current one is ``409 conflict``: someone else saved in between.
    """

    async def work(uow: UnitOfWork) -> Article:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref, for_update=True)
        if row is None:
            raise NotFoundError("no such help article")
        [article] = await load_articles(conn, [row])
        now = clock.now()
        revised: dict[str, int] = {}
        for locale, edit in sorted((edits or {}).items()):
            current = article.versions.get(locale)
            number = current.revision if current else 0
            if edit.base_revision is not None and edit.base_revision != number:
                raise ConflictError(
                    f"{locale} is at revision {number}, not {edit.base_revision}: reload it"
                )
            if current is not None and current.same_text(edit.translation):
                continue
            await add_revision(
                conn,
                article_id=row.id,
                locale=locale,
                revision=number + 1,
                translation=edit.translation,
                source="staff",
                author_id=principal.staff_id,
                now=now,
            )
            revised[locale] = number + 1
        changes = {
            name: value
            for name, value in (("category", category), ("status", status))
            if value is not None and value != getattr(row, name)
        }
        if not revised and not changes:
            return article
        await repo.update_article(conn, row.id, updated_at=now, **changes)
        await record_event(
            conn,
            clock=clock,
            actor=principal.actor(),
            action="help.article_updated",
            subject_type="help_article",
            subject_id=row.id,
            details={"slug": row.slug, "revisions": revised, **changes},
        )
        [updated] = await load_articles(conn, [await repo.article_by_ref(conn, row.id)])
        return updated

    return await run_unit(engine, work)


async def record_feedback(
    engine: AsyncEngine, *, clock: Clock, ref: str, locale: str, helpful: bool
) -> str:
    """Store one anonymous answer for a published article; returns the article id."""

    async def work(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref)
        if row is None or row.status != "published":
            raise NotFoundError("no such help article")
        await repo.insert_feedback(
            conn, article_id=row.id, locale=locale, helpful=helpful, created_at=clock.now()
        )
        return str(row.id)

    return await run_unit(engine, work)


async def feedback_report(engine: AsyncEngine, *, locale: str) -> list[FeedbackRow]:
    """Per article, helpful and not helpful answers, worst first.

    Worst: the lowest share of "helpful", then the most "not helpful" answers (ten unhappy
    readers outrank one). Articles nobody rated come last, so the report is also the list
    of what has not been judged yet.
    """

    async def work(uow: UnitOfWork) -> list[FeedbackRow]:
        conn = await uow.connection()
        counts = {row.article_id: row for row in await repo.feedback_counts(conn)}
        articles = await load_articles(conn, await repo.all_articles(conn))
        rows = []
        for article in articles:
            count = counts.get(article.id)
            rows.append(
                FeedbackRow(
                    article.id,
                    article.slug,
                    article.version(locale).title,
                    int(count.helpful) if count else 0,
                    int(count.not_helpful) if count else 0,
                )
            )
        return sorted(rows, key=_worst_first)

    return await run_unit(engine, work, read_only=True)


def _worst_first(row: FeedbackRow) -> tuple[int, float, int, str]:
    ratio = row.helpful_ratio
    return (ratio is None, ratio if ratio is not None else 0.0, -row.not_helpful, row.slug)
