"""transfers and payments remember the request that made them: request_key, unique per
payer, so a rerun after a crash finds the operation instead of making another

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the column naming whose money it is)
TABLES = (("transfers", "payer_user_id"), ("payments", "user_id"))


def upgrade() -> None:
    for table, owner in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
            batch_op.create_index(
                f"uq_{table}_{owner}_request_key", [owner, "request_key"], unique=True
            )


def downgrade() -> None:
    for table, owner in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"uq_{table}_{owner}_request_key")
            batch_op.drop_column("request_key")
