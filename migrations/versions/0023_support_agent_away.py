"""support: an agent connected to the chat desk may be away (no new chats offered)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_agent_presence", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("away", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("support_agent_presence", schema=None) as batch_op:
        batch_op.drop_column("away")
