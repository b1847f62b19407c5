"""merchant people: users, roles, sessions

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

The people of a merchant who sign in to the merchant portal (owner, manager, cashier) and
their sessions, as staff and staff_sessions are for the console. Two new tables, nothing
else touched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "merchant_users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("totp_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("totp_enrolled_at", UTC_TIME, nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC_TIME, nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_sign_in_at", UTC_TIME, nullable=True),
        sa.CheckConstraint(
            "role IN ('owner', 'manager', 'cashier')", name=op.f("ck_merchant_users_role_known")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'disabled')", name=op.f("ck_merchant_users_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_users_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_users")),
        sa.UniqueConstraint("email", name=op.f("uq_merchant_users_email")),
    )
    op.create_index(
        "ix_merchant_users_merchant_id_created_at",
        "merchant_users",
        ["merchant_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "merchant_user_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("merchant_user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_user_id"],
            ["merchant_users.id"],
            name=op.f("fk_merchant_user_sessions_merchant_user_id_merchant_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_user_sessions")),
    )
    op.create_index(
        op.f("ix_merchant_user_sessions_merchant_user_id"),
        "merchant_user_sessions",
        ["merchant_user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_merchant_user_sessions_merchant_user_id"), table_name="merchant_user_sessions"
    )
    op.drop_table("merchant_user_sessions")
    op.drop_index("ix_merchant_users_merchant_id_created_at", table_name="merchant_users")
    op.drop_table("merchant_users")
