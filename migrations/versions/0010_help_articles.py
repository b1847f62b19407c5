"""help articles

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "help_articles",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('published', 'hidden')", name=op.f("ck_help_articles_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_help_articles_slug")),
    )
    op.create_table(
        "help_article_revisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "locale IN ('zh-CN', 'en')", name=op.f("ck_help_article_revisions_locale_known")
        ),
        sa.CheckConstraint(
            "source IN ('defaults', 'import', 'staff')",
            name=op.f("ck_help_article_revisions_source_known"),
        ),
        sa.CheckConstraint(
            "revision >= 1", name=op.f("ck_help_article_revisions_revision_positive")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["help_articles.id"],
            name=op.f("fk_help_article_revisions_article_id_help_articles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_article_revisions")),
        sa.UniqueConstraint("article_id", "locale", "revision", name="uq_help_article_revisions"),
    )
    op.create_table(
        "help_feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("locale IN ('zh-CN', 'en')", name=op.f("ck_help_feedback_locale_known")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["help_articles.id"],
            name=op.f("fk_help_feedback_article_id_help_articles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_feedback")),
    )
    with op.batch_alter_table("help_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_help_feedback_article_id", ["article_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("help_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_help_feedback_article_id")
    op.drop_table("help_feedback")
    op.drop_table("help_article_revisions")
    op.drop_table("help_articles")
