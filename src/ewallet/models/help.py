"""Help articles: the article, every revision of each language version, and reader feedback.

An article's current text in a language is its highest revision in that language; nothing is
updated in place, so the history of who changed what and when is the revisions table itself.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime


class ArticleStatus(StrEnum):
    PUBLISHED = "published"
    HIDDEN = "hidden"


class RevisionSource(StrEnum):
    """Where a revision came from: the packaged defaults, a CLI import, a staff edit."""

    DEFAULTS = "defaults"
    IMPORT = "import"
    STAFF = "staff"


HELP_LOCALES = ("zh-CN", "en")
ARTICLE_STATUSES = tuple(status.value for status in ArticleStatus)
REVISION_SOURCES = tuple(source.value for source in RevisionSource)


class HelpArticle(Base):
    __tablename__ = "help_articles"
    __table_args__ = (CheckConstraint("status IN ('published', 'hidden')", name="status_known"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Moves on every change (a revision, the category, the status): search indexes compare it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HelpArticleRevision(Base):
    __tablename__ = "help_article_revisions"
    __table_args__ = (
        CheckConstraint("locale IN ('zh-CN', 'en')", name="locale_known"),
        CheckConstraint("source IN ('defaults', 'import', 'staff')", name="source_known"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        UniqueConstraint("article_id", "locale", "revision", name="uq_help_article_revisions"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(String(32), ForeignKey("help_articles.id"))
    locale: Mapped[str] = mapped_column(String(5))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Comma-separated search keywords (the phrasings readers use that the text may not).
    tags: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10))
    # The staff member who wrote it; null for the packaged defaults and CLI imports.
    author_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HelpFeedback(Base):
    """One "was this helpful?" answer; anonymous on purpose (no user id, no address)."""

    __tablename__ = "help_feedback"
    __table_args__ = (
        CheckConstraint("locale IN ('zh-CN', 'en')", name="locale_known"),
        Index("ix_help_feedback_article_id", "article_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(String(32), ForeignKey("help_articles.id"))
    locale: Mapped[str] = mapped_column(String(5))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
