"""billers, bills and bill payments

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ewallet.kit.db.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The directory's rows are written by the app at start-up (ewallet.bills.service),
    # idempotently, so a database emptied by tests or restored from elsewhere gets them too.
    op.create_table(
        "billers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("account_pattern", sa.String(length=200), nullable=False),
        sa.Column("account_hint_zh", sa.String(length=100), nullable=False),
        sa.Column("account_hint_en", sa.String(length=100), nullable=False),
        sa.Column("check_digit", sa.String(length=8), nullable=True),
        sa.Column(
            "fixed_amounts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('electricity', 'water', 'gas', 'mobile_topup', 'broadband')",
            name=op.f("ck_billers_category_known"),
        ),
        sa.CheckConstraint(
            "check_digit IS NULL OR check_digit IN ('luhn')",
            name=op.f("ck_billers_check_digit_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'suspended')", name=op.f("ck_billers_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billers")),
    )
    with op.batch_alter_table("billers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billers_category_sort_order", ["category", "sort_order"], unique=False
        )

    op.create_table(
        "bill_payments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("biller_id", sa.String(length=32), nullable=False),
        sa.Column("account_no", sa.String(length=32), nullable=False),
        sa.Column("holder_name_masked", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("ledger_transaction_id", sa.String(length=32), nullable=False),
        sa.Column("refund_transaction_id", sa.String(length=32), nullable=True),
        sa.Column("biller_confirmation", sa.String(length=64), nullable=True),
        sa.Column("receipt_no", sa.String(length=32), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_bill_payments_amount_positive")),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')",
            name=op.f("ck_bill_payments_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["biller_id"], ["billers.id"], name=op.f("fk_bill_payments_biller_id_billers")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bill_payments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_payments")),
        sa.UniqueConstraint(
            "ledger_transaction_id", name=op.f("uq_bill_payments_ledger_transaction_id")
        ),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_bill_payments_receipt_no")),
        sa.UniqueConstraint(
            "refund_transaction_id", name=op.f("uq_bill_payments_refund_transaction_id")
        ),
    )
    with op.batch_alter_table("bill_payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bill_payments_status_updated_at", ["status", "updated_at"], unique=False
        )
        batch_op.create_index(
            "ix_bill_payments_user_id_created_at", ["user_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bill_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_bill_payments_user_id_created_at")
        batch_op.drop_index("ix_bill_payments_status_updated_at")
    op.drop_table("bill_payments")
    with op.batch_alter_table("billers", schema=None) as batch_op:
        batch_op.drop_index("ix_billers_category_sort_order")
    op.drop_table("billers")
