"""support tickets and email

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

import ewallet.kit.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
        sa.UniqueConstraint("event_id", name=op.f("uq_email_messages_event_id")),
    )
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.create_index("ix_email_messages_recipient_id", ["recipient", "id"], unique=False)

    op.create_table(
        "support_agent_states",
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("last_assigned_seq", sa.Integer(), nullable=False),
        sa.Column(
            "last_assigned_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_support_agent_states_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_support_agent_states")),
    )

    op.create_table(
        "support_canned_replies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_support_canned_replies_created_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_canned_replies")),
    )

    op.create_table(
        "support_customer_emails",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_support_customer_emails_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_customer_emails")),
        sa.UniqueConstraint("user_id", name=op.f("uq_support_customer_emails_user_id")),
    )
    with op.batch_alter_table("support_customer_emails", schema=None) as batch_op:
        batch_op.create_index(
            "uq_support_customer_emails_verified_email",
            ["email"],
            unique=True,
            postgresql_where=sa.text("verified_at IS NOT NULL"),
            sqlite_where=sa.text("verified_at IS NOT NULL"),
        )

    op.create_table(
        "support_tickets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("assigned_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "first_response_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "sla_first_response_due_at",
            ewallet.kit.db.base.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "sla_resolution_due_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("resolved_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.String(length=1000), nullable=True),
        sa.Column("rated_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "category IN ('account', 'payment', 'card', 'topup', 'withdrawal', 'transfer', 'dispute', 'complaint', 'other')",
            name=op.f("ck_support_tickets_category_known"),
        ),
        sa.CheckConstraint(
            "channel IN ('web', 'api', 'email', 'chat', 'phone')",
            name=op.f("ck_support_tickets_channel_known"),
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')",
            name=op.f("ck_support_tickets_priority_known"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'open', 'pending_customer', 'resolved', 'closed')",
            name=op.f("ck_support_tickets_status_known"),
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)",
            name=op.f("ck_support_tickets_rating_range"),
        ),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR email IS NOT NULL", name=op.f("ck_support_tickets_has_customer")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["staff.id"], name=op.f("fk_support_tickets_assignee_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_support_tickets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_tickets")),
        sa.UniqueConstraint("reference", name=op.f("uq_support_tickets_reference")),
    )
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_support_tickets_assignee_id_status", ["assignee_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_support_tickets_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index("ix_support_tickets_user_id", ["user_id", "id"], unique=False)

    op.create_table(
        "support_inbound_mail",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("email_message_id", sa.String(length=255), nullable=True),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("disposition", sa.String(length=10), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("received_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "disposition IN ('opened', 'continued', 'auto_reply', 'bounce', 'rejected')",
            name=op.f("ck_support_inbound_mail_disposition_known"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_tickets.id"],
            name=op.f("fk_support_inbound_mail_ticket_id_support_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_inbound_mail")),
    )

    op.create_table(
        "support_ticket_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("author_type", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("email_message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "author_type IN ('customer', 'agent', 'bot', 'system')",
            name=op.f("ck_support_ticket_messages_author_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_tickets.id"],
            name=op.f("fk_support_ticket_messages_ticket_id_support_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_ticket_messages")),
    )
    with op.batch_alter_table("support_ticket_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_support_ticket_messages_email_message_id", ["email_message_id"], unique=False
        )
        batch_op.create_index(
            "ix_support_ticket_messages_ticket_id", ["ticket_id", "id"], unique=False
        )

    op.create_table(
        "support_attachments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("rejected_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["support_ticket_messages.id"],
            name=op.f("fk_support_attachments_message_id_support_ticket_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_tickets.id"],
            name=op.f("fk_support_attachments_ticket_id_support_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_attachments")),
    )
    with op.batch_alter_table("support_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_support_attachments_ticket_id", ["ticket_id"], unique=False)


def downgrade() -> None:
    # Indexes go with their tables.
    op.drop_table("support_attachments")
    op.drop_table("support_ticket_messages")
    op.drop_table("support_inbound_mail")
    op.drop_table("support_tickets")
    op.drop_table("support_customer_emails")
    op.drop_table("support_canned_replies")
    op.drop_table("support_agent_states")
    op.drop_table("email_messages")
