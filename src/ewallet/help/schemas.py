"""Bodies of the help API (public) and of the staff help-editing API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ewallet.help.articles import (
    BODY_MAX,
    SLUG,
    SLUG_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    Translation,
)
from ewallet.help.search import summary
from ewallet.help.views import CHINA_TIME, Article, Contact, FeedbackRow, Found, Version
from ewallet.kit.request_model import RequestModel

HelpLocale = Literal["zh-CN", "en"]
Category = Literal[
    "account",
    "security",
    "payments",
    "cards",
    "top-up",
    "withdrawals",
    "transfers",
    "limits",
    "support",
]
Status = Literal["published", "hidden"]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TAG_MAX)]


# Public.


class ArticleHit(BaseModel):
    id: str
    slug: str
    category: str
    locale: HelpLocale
    title: str
    summary: str
    score: float | None = Field(description="BM25 relevance; null when listing without a query")

    @classmethod
    def of(cls, found: Found, locale: str) -> ArticleHit:
        article, version = found.article, found.article.version(locale)
        return cls(
            id=article.id,
            slug=article.slug,
            category=article.category,
            locale=version.locale,
            title=version.title,
            summary=summary(version.body),
            score=round(found.score, 4) if found.score is not None else None,
        )


class ArticleHits(BaseModel):
    query: str
    items: list[ArticleHit]
    match: Literal["good", "weak"] | None = Field(
        default=None,
        description="good: the first article has most of the query's words; weak: no good "
        "match, these are the closest articles and `contact` says how to reach a person; "
        "null when listing without a query",
    )
    contact: ContactOut | None = Field(default=None, description="Only with match weak")


class ArticleOut(BaseModel):
    id: str
    slug: str
    category: str
    locale: HelpLocale
    title: str
    body: str = Field(description="Markdown")
    tags: list[str]
    revision: int
    updated_at: datetime

    @classmethod
    def of(cls, article: Article, locale: str) -> ArticleOut:
        version = article.version(locale)
        return cls(
            id=article.id,
            slug=article.slug,
            category=article.category,
            locale=version.locale,
            title=version.title,
            body=version.body,
            tags=list(version.tags),
            revision=version.revision,
            updated_at=version.created_at,
        )


class FeedbackIn(RequestModel):
    helpful: bool
    locale: HelpLocale | None = None


class ContactHours(BaseModel):
    opens: str
    closes: str
    timezone: str
    open_now: bool
    text: str


class ContactChat(BaseModel):
    available: bool  # the chat is on: the bot answers at any hour
    path: str | None
    agents_online: bool  # a human agent is connected now (else a hand-over becomes a ticket)


class ContactOut(BaseModel):
    hotline: str
    hours: ContactHours
    online_chat: ContactChat
    email: str
    tickets_path: str = Field(description="Open a support ticket (signed in)")
    callbacks_path: str = Field(description="Book a call-back from an agent (signed in)")

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            hotline=contact.hotline,
            hours=ContactHours(
                opens=contact.hours.opens,
                closes=contact.hours.closes,
                timezone=CHINA_TIME.key,
                open_now=contact.open_now,
                text=contact.hours_text,
            ),
            online_chat=ContactChat(
                available=contact.chat_available,
                path=contact.chat_path,
                agents_online=contact.agents_online,
            ),
            email=contact.email,
            tickets_path=contact.tickets_path,
            callbacks_path=contact.callbacks_path,
        )


# Staff.


class TranslationIn(RequestModel):
    title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)
    ]
    body: Annotated[str, StringConstraints(min_length=1, max_length=BODY_MAX)]
    tags: Annotated[list[Tag], Field(max_length=TAGS_MAX)] = Field(default_factory=list)

    def translation(self) -> Translation:
        return Translation(self.title, self.body, tuple(self.tags))


class TranslationEditIn(TranslationIn):
    base_revision: int | None = Field(
        default=None, ge=0, description="The revision edited; 409 if another was saved since"
    )


class ArticleCreateIn(RequestModel):
    slug: Annotated[str, StringConstraints(pattern=SLUG.pattern, max_length=SLUG_MAX)]
    category: Category
    status: Status = "published"
    translations: dict[HelpLocale, TranslationIn] = Field(
        description="Both zh-CN and en are required"
    )


class ArticleUpdateIn(RequestModel):
    """Only what is given changes; each language whose text changed gets a new revision."""

    category: Category | None = None
    status: Status | None = None
    translations: dict[HelpLocale, TranslationEditIn] = Field(default_factory=dict)


class VersionOut(BaseModel):
    locale: HelpLocale
    revision: int
    title: str
    body: str
    tags: list[str]
    source: str
    author_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, version: Version) -> VersionOut:
        return cls(
            locale=version.locale,
            revision=version.revision,
            title=version.title,
            body=version.body,
            tags=list(version.tags),
            source=version.source,
            author_id=version.author_id,
            created_at=version.created_at,
        )


class StaffArticleOut(BaseModel):
    id: str
    slug: str
    category: str
    status: str
    created_at: datetime
    updated_at: datetime
    translations: dict[str, VersionOut]

    @classmethod
    def of(cls, article: Article) -> StaffArticleOut:
        return cls(
            id=article.id,
            slug=article.slug,
            category=article.category,
            status=article.status,
            created_at=article.created_at,
            updated_at=article.updated_at,
            translations={
                locale: VersionOut.of(version) for locale, version in article.versions.items()
            },
        )


class StaffArticleList(BaseModel):
    items: list[StaffArticleOut]


class RevisionList(BaseModel):
    article_id: str
    slug: str
    items: list[VersionOut] = Field(description="Newest first within each language")


class FeedbackReportRow(BaseModel):
    article_id: str
    slug: str
    title: str
    helpful: int
    not_helpful: int
    total: int
    helpful_ratio: float | None

    @classmethod
    def of(cls, row: FeedbackRow) -> FeedbackReportRow:
        ratio = row.helpful_ratio
        return cls(
            article_id=row.article_id,
            slug=row.slug,
            title=row.title,
            helpful=row.helpful,
            not_helpful=row.not_helpful,
            total=row.total,
            helpful_ratio=round(ratio, 4) if ratio is not None else None,
        )


class FeedbackReport(BaseModel):
    items: list[FeedbackReportRow] = Field(description="Worst first; unrated articles last")
