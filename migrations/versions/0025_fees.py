"""merchant fees (rate, minimum) and the fee of each payment and refund

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

A merchant may have its own fee terms (``fee_rate_bp``, ``fee_minimum``; null: the
configured defaults). A payment records the fee taken when it settled and the fee its
refunds returned so far; a refund records the fee it returned. Payments and refunds made
before fees existed keep 0 (they paid none). Columns added in place (``ALTER TABLE ... ADD
COLUMN``): no batch copy of the tables. ``GET /v1/merchant/refunds`` lists a merchant's
refunds newest first from ``(merchant_id, created_at, id)``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("merchants", sa.Column("fee_rate_bp", sa.Integer(), nullable=True))
    op.add_column("merchants", sa.Column("fee_minimum", sa.BigInteger(), nullable=True))
    op.add_column(
        "payments",
        sa.Column("fee", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "payments",
        sa.Column("fee_returned", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "refunds",
        sa.Column("fee_returned", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.create_index(
        "ix_refunds_merchant_id_created_at_id",
        "refunds",
        ["merchant_id", "created_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_merchant_id_created_at_id", table_name="refunds")
    op.drop_column("refunds", "fee_returned")
    op.drop_column("payments", "fee_returned")
    op.drop_column("payments", "fee")
    op.drop_column("merchants", "fee_minimum")
    op.drop_column("merchants", "fee_rate_bp")
