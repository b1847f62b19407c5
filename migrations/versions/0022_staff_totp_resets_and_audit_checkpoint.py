"""staff administration: authenticator resets approved by a second admin; the audit chain's
verification checkpoint; audit events searchable by actor and time

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08

The two new indexes on ``audit_events`` are built in the migration's transaction (a plain
``CREATE INDEX``): audit writes wait while they build, about 0.3 s per 100,000 events
(measured on SQLite and PostgreSQL, 2 shared vCPUs).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_totp_resets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("decision_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_staff_totp_resets_status_known"),
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_staff_totp_resets_expires_after_creation")
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)",
            name=op.f("ck_staff_totp_resets_decided_unless_pending"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_totp_resets_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["staff.id"], name=op.f("fk_staff_totp_resets_requested_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff.id"], name=op.f("fk_staff_totp_resets_decided_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_totp_resets")),
    )
    op.create_index(
        op.f("ix_staff_totp_resets_staff_id"), "staff_totp_resets", ["staff_id"], unique=False
    )
    op.create_index(
        op.f("ix_staff_totp_resets_created_at"), "staff_totp_resets", ["created_at"], unique=False
    )

    op.create_table(
        "audit_chain_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verified_event_id", sa.Integer(), nullable=False),
        sa.Column("verified_hash", sa.String(length=64), nullable=False),
        sa.Column("verified_event_at", UTC_TIME, nullable=True),
        sa.Column("checked_at", UTC_TIME, nullable=False),
        sa.Column("broken_event_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_checkpoint")),
    )

    # Plain indexes, not batch operations: on SQLite a batch could copy the table, and the
    # copy would lose the append-only triggers.
    op.create_index(op.f("ix_audit_events_actor_id"), "audit_events", ["actor_id"], unique=False)
    op.create_index(
        op.f("ix_audit_events_occurred_at"), "audit_events", ["occurred_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_events_occurred_at"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_actor_id"), table_name="audit_events")
    op.drop_table("audit_chain_checkpoint")
    op.drop_index(op.f("ix_staff_totp_resets_created_at"), table_name="staff_totp_resets")
    op.drop_index(op.f("ix_staff_totp_resets_staff_id"), table_name="staff_totp_resets")
    op.drop_table("staff_totp_resets")
