"""merchant API gaps: payment links

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

``payment_links``: a merchant's long-lived link that makes an order when opened (fixed or
open amount, optional expiry and use limit). ``ix_orders_merchant_id_created_at_id`` serves
the merchant's order list (newest first, cursor on ``(created_at, id)``); the lookup by
``(merchant_id, out_trade_no)`` already has its unique constraint. Plain operations, no
batch copies of tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payment_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("out_trade_prefix", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=True),
        sa.Column("disabled_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'disabled')", name=op.f("ck_payment_links_status_known")
        ),
        sa.CheckConstraint(
            "amount IS NULL OR amount > 0", name=op.f("ck_payment_links_amount_positive")
        ),
        sa.CheckConstraint(
            "max_uses IS NULL OR max_uses > 0", name=op.f("ck_payment_links_max_uses_positive")
        ),
        sa.CheckConstraint(
            "uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)",
            name=op.f("ck_payment_links_uses_within"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_payment_links_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_links")),
        sa.UniqueConstraint("token", name=op.f("uq_payment_links_token")),
    )
    op.create_index(
        "ix_payment_links_merchant_id_created_at_id",
        "payment_links",
        ["merchant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_orders_merchant_id_created_at_id",
        "orders",
        ["merchant_id", "created_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_merchant_id_created_at_id", table_name="orders")
    op.drop_index("ix_payment_links_merchant_id_created_at_id", table_name="payment_links")
    op.drop_table("payment_links")
