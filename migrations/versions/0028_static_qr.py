"""merchant stores and their static QR codes

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

Two new tables, no change to existing ones: ``merchant_stores`` and ``static_qr_codes``
(models/static_qr.py). One active code per holder is a partial unique index, written the
same way for both databases.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = ewallet.kit.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "merchant_stores",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'disabled')", name=op.f("ck_merchant_stores_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_stores_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_stores")),
    )
    op.create_index(
        "ix_merchant_stores_merchant_id_created_at",
        "merchant_stores",
        ["merchant_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "static_qr_codes",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=True),
        sa.Column("holder", sa.String(length=32), nullable=False),
        sa.Column("fixed_amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("retired_at", UTC(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'retired')", name=op.f("ck_static_qr_codes_status_known")
        ),
        sa.CheckConstraint(
            "fixed_amount IS NULL OR fixed_amount > 0",
            name=op.f("ck_static_qr_codes_fixed_amount_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_static_qr_codes_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["merchant_stores.id"],
            name=op.f("fk_static_qr_codes_store_id_merchant_stores"),
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_static_qr_codes")),
    )
    op.create_index(
        "ix_static_qr_codes_merchant_id", "static_qr_codes", ["merchant_id"], unique=False
    )
    op.create_index(
        "uq_static_qr_codes_holder_active",
        "static_qr_codes",
        ["holder"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("uq_static_qr_codes_holder_active", table_name="static_qr_codes")
    op.drop_index("ix_static_qr_codes_merchant_id", table_name="static_qr_codes")
    op.drop_table("static_qr_codes")
    op.drop_index("ix_merchant_stores_merchant_id_created_at", table_name="merchant_stores")
    op.drop_table("merchant_stores")
