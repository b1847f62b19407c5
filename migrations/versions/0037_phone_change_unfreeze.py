"""phone number changes reviewed by staff, and self-service unfreeze

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07

``phone_change_requests`` holds the changes asked for without the old number (the owner
proves who they are with their real name, ID number and the new number's SMS code, and a
support agent or a risk officer decides; docs/account-lifecycle.md). At most one request
per user is pending (a partial unique index on both databases). A change made with both
SMS codes, and the owner's own unfreeze, need no table: they are audit events, and the
audit log is also what counts failed unfreeze attempts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)
PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    op.create_table(
        "phone_change_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("old_phone", sa.String(length=20), nullable=False),
        sa.Column("new_phone", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_phone_change_requests_state_known"),
        ),
        sa.CheckConstraint(
            "old_phone <> new_phone", name=op.f("ck_phone_change_requests_phone_differs")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_phone_change_requests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_change_requests")),
    )
    op.create_index(op.f("ix_phone_change_requests_user_id"), "phone_change_requests", ["user_id"])
    op.create_index(
        "ix_phone_change_requests_state_created_at",
        "phone_change_requests",
        ["state", "created_at"],
    )
    op.create_index(
        "uq_phone_change_requests_one_pending",
        "phone_change_requests",
        ["user_id"],
        unique=True,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("uq_phone_change_requests_one_pending", table_name="phone_change_requests")
    op.drop_index("ix_phone_change_requests_state_created_at", table_name="phone_change_requests")
    op.drop_index(op.f("ix_phone_change_requests_user_id"), table_name="phone_change_requests")
    op.drop_table("phone_change_requests")
