"""operations remember the request that made them: request_key on withdrawals, top-ups and
bill payments, unique per user

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("withdrawals", "topups", "bill_payments")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
            batch_op.create_index(
                f"uq_{table}_user_id_request_key", ["user_id", "request_key"], unique=True
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"uq_{table}_user_id_request_key")
            batch_op.drop_column("request_key")
