"""online chat, call-backs and agent context

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ewallet.kit.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_agent_presence",
        sa.Column("connection_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("connected_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_support_agent_presence_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_support_agent_presence")),
    )
    op.create_index(
        "ix_support_agent_presence_last_seen_at",
        "support_agent_presence",
        ["last_seen_at"],
        unique=False,
    )
    op.create_table(
        "support_callbacks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("preferred_from", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("preferred_to", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("handled_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'done', 'cancelled')",
            name=op.f("ck_support_callbacks_status_known"),
        ),
        sa.CheckConstraint(
            "preferred_to > preferred_from", name=op.f("ck_support_callbacks_window_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["handled_by"], ["staff.id"], name=op.f("fk_support_callbacks_handled_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_support_callbacks_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_callbacks")),
    )
    op.create_index(
        "ix_support_callbacks_status_preferred_from",
        "support_callbacks",
        ["status", "preferred_from"],
        unique=False,
    )
    op.create_index(
        "ix_support_callbacks_user_id", "support_callbacks", ["user_id", "id"], unique=False
    )
    op.create_table(
        "support_chats",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("unhelpful_streak", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=True),
        sa.Column("ticket_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=8), nullable=True),
        sa.CheckConstraint(
            "closed_by IS NULL OR closed_by IN ('customer', 'agent', 'system')",
            name=op.f("ck_support_chats_closed_by_known"),
        ),
        sa.CheckConstraint(
            "status IN ('bot', 'queued', 'active', 'closed')",
            name=op.f("ck_support_chats_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["staff.id"], name=op.f("fk_support_chats_agent_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_tickets.id"],
            name=op.f("fk_support_chats_ticket_id_support_tickets"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_support_chats_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_chats")),
    )
    op.create_index(
        "ix_support_chats_agent_id_status", "support_chats", ["agent_id", "status"], unique=False
    )
    op.create_index(
        "ix_support_chats_status_queued_at",
        "support_chats",
        ["status", "queued_at", "id"],
        unique=False,
    )
    op.create_index("ix_support_chats_user_id", "support_chats", ["user_id", "id"], unique=False)
    op.create_table(
        "support_chat_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("sender_id", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "articles",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "sender IN ('customer', 'bot', 'agent', 'system')",
            name=op.f("ck_support_chat_messages_sender_known"),
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["support_chats.id"],
            name=op.f("fk_support_chat_messages_chat_id_support_chats"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_chat_messages")),
    )
    op.create_index(
        "ix_support_chat_messages_chat_id", "support_chat_messages", ["chat_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_support_chat_messages_chat_id", table_name="support_chat_messages")
    op.drop_table("support_chat_messages")
    op.drop_index("ix_support_chats_user_id", table_name="support_chats")
    op.drop_index("ix_support_chats_status_queued_at", table_name="support_chats")
    op.drop_index("ix_support_chats_agent_id_status", table_name="support_chats")
    op.drop_table("support_chats")
    op.drop_index("ix_support_callbacks_user_id", table_name="support_callbacks")
    op.drop_index("ix_support_callbacks_status_preferred_from", table_name="support_callbacks")
    op.drop_table("support_callbacks")
    op.drop_index("ix_support_agent_presence_last_seen_at", table_name="support_agent_presence")
    op.drop_table("support_agent_presence")
