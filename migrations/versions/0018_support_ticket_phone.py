"""support: a ticket may belong to a caller without an account, by phone number

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_support_tickets_has_customer"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_support_tickets_has_customer"),
            "user_id IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_support_tickets_has_customer"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_support_tickets_has_customer"),
            "user_id IS NOT NULL OR email IS NOT NULL",
        )
        batch_op.drop_column("phone")
