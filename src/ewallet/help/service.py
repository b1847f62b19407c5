"""Help's use cases: searching and reading articles, staff edits, previews and revision
differences, feedback, contact details.

Every change of an article's text is a new revision of that language version (never an
update), written with who made it and when; a staff edit is also an audit event in the same
transaction, and invalidates the process's search index so the next search sees it.
Importing and exporting Markdown is :mod:`ewallet.help.importing.service`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.help import repository as repo
from ewallet.help.articles import (
    BODY_MAX,
    CATEGORIES,
    SLUG,
    SLUG_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    Translation,
)
from ewallet.help.diff import line_diff
from ewallet.help.markdown import article_html
from ewallet.help.search import ArticlesLoader, HelpSearch, StampLoader, summary
from ewallet.help.views import (
    Answer,
    Article,
    ArticlePreview,
    Contact,
    FeedbackRow,
    Found,
    Hours,
    Match,
    RevisionDiff,
    TranslationEdit,
    Version,
)
from ewallet.identity.throttles import UNKNOWN_ADDRESS
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError
from ewallet.kit.i18n import Locale
from ewallet.kit.ids import new_id
from ewallet.models.help import ARTICLE_STATUSES, HELP_LOCALES, ArticleStatus, RevisionSource
from ewallet.security.ratelimit import Rule
from ewallet.services import Services
from ewallet.support.presence.service import any_agent_online

CHAT_PATH: Final = "/v1/support/chat"
TICKETS_PATH: Final = "/v1/support/tickets"
CALLBACKS_PATH: Final = "/v1/support/callbacks"


# Reading.


def _version(row: repo.RevisionRow) -> Version:
    tags = tuple(tag for tag in row.tags.split(",") if tag)
    return Version(
        row.locale,
        row.revision,
        row.title,
        row.body,
        tags,
        row.source,
        row.author_id,
        row.created_at,
    )


async def load_articles(conn: AsyncConnection, rows: Sequence[repo.ArticleRow]) -> list[Article]:
    """``rows`` with their current versions (articles without any version are left out)."""
    if not rows:
        return []
    by_id = {
        row.id: Article(row.id, row.slug, row.category, row.status, row.created_at, row.updated_at)
        for row in rows
    }
    for version in await repo.current_versions(conn, list(by_id)):
        by_id[version.article_id].versions[version.locale] = _version(version)
    return [article for article in by_id.values() if article.versions]


async def _reload(conn: AsyncConnection, article_id: str) -> Article:
    row = await repo.article_by_ref(conn, article_id)
    assert row is not None  # written in this unit
    [article] = await load_articles(conn, [row])
    return article


async def list_articles(services: Services, *, published_only: bool) -> list[Article]:
    """Every article by category and slug (staff: hidden ones too)."""

    async def work(uow: UnitOfWork) -> list[Article]:
        conn = await uow.connection()
        return await load_articles(
            conn, await repo.all_articles(conn, published_only=published_only)
        )

    return await run_unit(services.engine, work, read_only=True)


async def read_article(services: Services, ref: str, *, published_only: bool) -> Article:
    """The article with id or slug ``ref``; hidden ones only for staff (``published_only``).

    Refusal: ``not_found`` (unknown, or hidden for the public).
    """

    async def work(uow: UnitOfWork) -> Article:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref)
        if row is None or (published_only and row.status != ArticleStatus.PUBLISHED):
            raise NotFoundError("no such help article")
        [article] = await load_articles(conn, [row])
        return article

    return await run_unit(services.engine, work, read_only=True)


async def revision_history(services: Services, ref: str) -> tuple[Article, list[Version]]:
    """The article and every revision of each language, newest first; refusal: ``not_found``."""

    async def work(uow: UnitOfWork) -> tuple[Article, list[Version]]:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref)
        if row is None:
            raise NotFoundError("no such help article")
        [article] = await load_articles(conn, [row])
        return article, [_version(r) for r in await repo.revision_history(conn, row.id)]

    return await run_unit(services.engine, work, read_only=True)


async def compare_revisions(
    services: Services, ref: str, *, locale: str, older: int, newer: int
) -> RevisionDiff:
    """What changed in ``locale`` from revision ``older`` to ``newer`` (title, tags, and the
    body line by line). Refusals: an unknown article, language or revision (``not_found``),
    ``older`` not before ``newer`` (``validation_error``).
    """
    if older >= newer:
        raise ValidationFailedError("compare an older revision with a newer one")

    async def work(uow: UnitOfWork) -> tuple[Article, dict[int, Version]]:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref)
        if row is None:
            raise NotFoundError("no such help article")
        [article] = await load_articles(conn, [row])
        found = {
            r.revision: _version(r)
            for r in await repo.revision_history(conn, row.id)
            if r.locale == locale and r.revision in (older, newer)
        }
        return article, found

    article, found = await run_unit(services.engine, work, read_only=True)
    if older not in found or newer not in found:
        raise NotFoundError("no such revision")
    before, after = found[older], found[newer]
    return RevisionDiff(article, locale, before, after, tuple(line_diff(before.body, after.body)))


def preview_article(*, title: str, body: str) -> ArticlePreview:
    """How ``title`` and the Markdown ``body`` would read in the help centre (the wallet's
    article page and its search summary), before anything is saved. Empty text previews as
    empty; refusal: text longer than an article may be (``validation_error``)."""
    if len(title) > TITLE_MAX:
        raise ValidationFailedError(f"a title has at most {TITLE_MAX} characters", field="title")
    if len(body) > BODY_MAX:
        raise ValidationFailedError(f"a body has at most {BODY_MAX} characters", field="body")
    return ArticlePreview(title.strip(), article_html(body), summary(body) if body.strip() else "")


def _index_loaders(services: Services) -> tuple[StampLoader, ArticlesLoader]:
    async def stamp() -> repo.IndexStamp:
        async def work(uow: UnitOfWork) -> repo.IndexStamp:
            return await repo.index_stamp(await uow.connection())

        return await run_unit(services.engine, work, read_only=True)

    async def load() -> list[Article]:
        return await list_articles(services, published_only=True)

    return stamp, load


async def search_articles(
    services: Services, search: HelpSearch, *, query: str, limit: int
) -> list[Found]:
    """Published articles for ``query`` by falling score (none when no word matched: the
    chat bot hands over then); an empty query lists them unscored."""
    stamp, load = _index_loaders(services)
    if query.strip():
        return await search.search(query, limit=limit, stamp=stamp, load=load)
    return await search.browse(limit=limit, stamp=stamp, load=load)


async def answer_query(
    services: Services, search: HelpSearch, *, query: str, limit: int, locale: Locale
) -> Answer:
    """What the help centre shows for ``query`` (``GET /v1/help/articles``, ``/help``):
    ranked articles with ``match: good``; with no good match the closest articles anyway
    and the ways to reach a person (``match: weak``, :func:`contact`); an empty query lists
    the articles by category (``match`` None)."""
    stamp, load = _index_loaders(services)
    if not query.strip():
        return Answer(await search.browse(limit=limit, stamp=stamp, load=load), None)
    answer = await search.answer(query, limit=limit, stamp=stamp, load=load)
    if answer.match is Match.WEAK:
        return replace(answer, contact=await contact(services, locale=locale))
    return answer


# Writing.


def revision_values(
    *,
    article_id: str,
    locale: str,
    revision: int,
    translation: Translation,
    source: RevisionSource,
    author_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The row of one new revision; refusal: an unknown locale (``validation_error``)."""
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


def checked_translation(translation: Translation) -> Translation:
    """``translation`` with its title and tags trimmed, if it keeps the rules every article
    follows (the staff API's schema says the same): a title of one line and 1 to
    ``TITLE_MAX`` characters, a body of 1 to ``BODY_MAX``, at most ``TAGS_MAX`` tags of at
    most ``TAG_MAX`` characters. Refusal: ``validation_error`` naming the ``field``."""
    title = translation.title.strip()
    if not title or len(title) > TITLE_MAX or "\n" in title:
        raise ValidationFailedError(
            f"a title is one line of 1 to {TITLE_MAX} characters", field="title"
        )
    if not translation.body.strip() or len(translation.body) > BODY_MAX:
        raise ValidationFailedError(f"a body has 1 to {BODY_MAX} characters", field="body")
    tags = tuple(tag.strip() for tag in translation.tags if tag.strip())
    if len(tags) > TAGS_MAX or any(len(tag) > TAG_MAX for tag in tags):
        raise ValidationFailedError(
            f"at most {TAGS_MAX} tags of at most {TAG_MAX} characters", field="tags"
        )
    return Translation(title, translation.body, tags)


def _check_article(*, slug: str | None = None, category: str | None, status: str | None) -> None:
    if slug is not None and (not SLUG.match(slug) or len(slug) > SLUG_MAX):
        raise ValidationFailedError("a slug is lowercase words joined by '-'", field="slug")
    if category is not None and category not in CATEGORIES:
        raise ValidationFailedError(f"category must be one of {CATEGORIES}", field="category")
    if status is not None and status not in ARTICLE_STATUSES:
        raise ValidationFailedError(f"status must be one of {ARTICLE_STATUSES}", field="status")


async def create_article(
    services: Services,
    actor: Actor,
    *,
    search: HelpSearch,
    slug: str,
    category: str,
    status: str,
    translations: dict[str, Translation],
) -> Article:
    """A new article, revision 1 in every language by ``actor``; audited (``help.article_created``).

    Refusals, in order: a language missing, a slug, category, status or text breaking the
    rules (``validation_error``, :func:`checked_translation`), the slug taken (``conflict``).
    """
    _require_both_locales(translations)
    _check_article(slug=slug, category=category, status=status)
    translations = {locale: checked_translation(t) for locale, t in translations.items()}

    async def work(uow: UnitOfWork) -> Article:
        conn = await uow.connection()
        if await repo.article_by_ref(conn, slug) is not None:
            raise ConflictError("an article with this slug exists")
        now = services.clock.now()
        article_id = new_id("hlp")
        await repo.insert_articles(
            conn,
            [
                {
                    "id": article_id,
                    "slug": slug,
                    "category": category,
                    "status": status,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        for locale, translation in sorted(translations.items()):
            await add_revision(
                conn,
                article_id=article_id,
                locale=locale,
                revision=1,
                translation=translation,
                source=RevisionSource.STAFF,
                author_id=actor.id,
                now=now,
            )
        await record_event(
            conn,
            clock=services.clock,
            actor=actor,
            action="help.article_created",
            subject_type="help_article",
            subject_id=article_id,
            details={"slug": slug, "category": category, "status": status},
        )
        return await _reload(conn, article_id)

    article = await run_unit(services.engine, work)
    search.invalidate()
    return article


async def update_article(
    services: Services,
    actor: Actor,
    *,
    search: HelpSearch,
    ref: str,
    category: str | None = None,
    status: str | None = None,
    edits: dict[str, TranslationEdit] | None = None,
) -> Article:
    """Apply a staff edit: a new revision per language whose text changed, and an audit event.

    An edit that changes nothing records nothing. Refusals, in order: a category, status or
    text breaking the rules (``validation_error``), unknown article (``not_found``), a
    ``base_revision`` that is no longer the current one (``conflict``: someone else saved
    in between). The article row is locked first.
    """
    _check_article(category=category, status=status)
    edits = {
        locale: TranslationEdit(checked_translation(edit.translation), edit.base_revision)
        for locale, edit in (edits or {}).items()
    }

    async def work(uow: UnitOfWork) -> Article:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref, for_update=True)
        if row is None:
            raise NotFoundError("no such help article")
        [article] = await load_articles(conn, [row])
        now = services.clock.now()
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
                source=RevisionSource.STAFF,
                author_id=actor.id,
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
            clock=services.clock,
            actor=actor,
            action="help.article_updated",
            subject_type="help_article",
            subject_id=row.id,
            details={"slug": row.slug, "revisions": revised, **changes},
        )
        return await _reload(conn, row.id)

    article = await run_unit(services.engine, work)
    search.invalidate()
    return article


# Feedback.


async def record_feedback(
    services: Services,
    *,
    client_address: str | None,
    ref: str,
    locale: str,
    helpful: bool,
) -> str:
    """Store one anonymous answer for a published article; returns the article id.

    Refusals, in order: too much feedback from ``client_address`` this hour
    (``rate_limited``, ``help_feedback_per_ip_hour``), unknown or hidden article
    (``not_found``).
    """
    rule = Rule("help-feedback-ip", services.settings.help_feedback_per_ip_hour, timedelta(hours=1))
    refused = await services.limiter.hit(rule, client_address or UNKNOWN_ADDRESS)
    if refused is not None:
        raise refused.error("too much feedback from this address; try again later")

    async def work(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        row = await repo.article_by_ref(conn, ref)
        if row is None or row.status != ArticleStatus.PUBLISHED:
            raise NotFoundError("no such help article")
        await repo.insert_feedback(
            conn, article_id=row.id, locale=locale, helpful=helpful, created_at=services.clock.now()
        )
        return row.id

    return await run_unit(services.engine, work)


async def feedback_report(services: Services, *, locale: str) -> list[FeedbackRow]:
    """Per article, helpful and not helpful answers, worst first.

    Worst: the lowest share of "helpful", then the most "not helpful" answers (ten unhappy
    readers outrank one). Articles nobody rated come last, so the report is also the list
    of what has not been judged yet.
    """

    async def work(uow: UnitOfWork) -> list[FeedbackRow]:
        conn = await uow.connection()
        counts = {count.article_id: count for count in await repo.feedback_counts(conn)}
        articles = await load_articles(conn, await repo.all_articles(conn))
        rows = []
        for article in articles:
            count = counts.get(article.id)
            rows.append(
                FeedbackRow(
                    article.id,
                    article.slug,
                    article.version(locale).title,
                    count.helpful if count else 0,
                    count.not_helpful if count else 0,
                )
            )
        return sorted(rows, key=_worst_first)

    return await run_unit(services.engine, work, read_only=True)


def _worst_first(row: FeedbackRow) -> tuple[int, float, int, str]:
    ratio = row.helpful_ratio
    return (ratio is None, ratio if ratio is not None else 0.0, -row.not_helpful, row.slug)


# Contact.


async def contact(services: Services, *, locale: Locale) -> Contact:
    """Hotline, hours (open now?), online chat (on? an agent online?) and email, from settings.

    Chat is answered by a bot first, so it is offered whenever the feature is switched on;
    ``agents_online`` says whether a person would take a hand-over now.
    """
    settings = services.settings
    hours = Hours.parse(settings.support_hours)
    chat = settings.support_chat_enabled
    staffed = chat and await any_agent_online(services)
    return Contact(
        hotline=settings.hotline,
        hours=hours,
        open_now=hours.open_at(services.clock.now()),
        hours_text=hours.describe(locale),
        chat_available=chat,
        chat_path=CHAT_PATH if chat else None,
        agents_online=staffed,
        email=settings.support_email,
        tickets_path=TICKETS_PATH,
        callbacks_path=CALLBACKS_PATH,
    )
