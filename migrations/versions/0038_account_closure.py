"""account closure and copies of personal data

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07

``closed_accounts``: one row per closed customer -- when it closed, a keyed digest of the
number it had (its ``users.phone`` becomes a ``#``-marker so the number can register
anew), and when the retention period ends and the personal fields were erased
(docs/account-closure.md). ``data_copies``: a copy of a user's own data (PIPL art. 45),
built by the worker, JSON and PDF stored in the row for seven days. Two new tables only:
the downgrade drops them (and with them any copy not yet downloaded).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "closed_accounts",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("closed_at", UTC_TIME, nullable=False),
        sa.Column("phone_digest", sa.String(length=64), nullable=True),
        sa.Column("erase_after", UTC_TIME, nullable=False),
        sa.Column("erased_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_closed_accounts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_closed_accounts")),
    )
    op.create_index(
        "ix_closed_accounts_erase_after", "closed_accounts", ["erase_after"], unique=False
    )
    op.create_table(
        "data_copies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("ready_at", UTC_TIME, nullable=True),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("json_document", sa.Text(), nullable=True),
        sa.Column("pdf_document", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "status IN ('building', 'ready', 'failed')", name=op.f("ck_data_copies_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_data_copies_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_copies")),
    )
    op.create_index(
        "ix_data_copies_user_id_requested_at",
        "data_copies",
        ["user_id", "requested_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_data_copies_user_id_requested_at", table_name="data_copies")
    op.drop_table("data_copies")
    op.drop_index("ix_closed_accounts_erase_after", table_name="closed_accounts")
    op.drop_table("closed_accounts")
