"""users: keyed digests of the login password's digit windows

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26

``users.login_password_digit_digests`` lets a payment password equal to the login
password's digits be refused (ewallet.identity.login_digits). Existing rows stay NULL
("not known yet") until their owner next signs in or sets a login password.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "login_password_digit_digests",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("login_password_digit_digests")
