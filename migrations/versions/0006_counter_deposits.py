"""counter cash deposits

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base
import ewallet.kit.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counter_deposits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("branch", sa.String(length=32), nullable=False),
        sa.Column("receipt_no", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("teller_id", sa.String(length=32), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("reject_reason", sa.String(length=200), nullable=True),
        sa.Column("ledger_transaction_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('awaiting_approval', 'completed', 'rejected')",
            name=op.f("ck_counter_deposits_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_counter_deposits_amount_positive")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff.id"], name=op.f("fk_counter_deposits_decided_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["teller_id"], ["staff.id"], name=op.f("fk_counter_deposits_teller_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_counter_deposits_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_deposits")),
    )
    with op.batch_alter_table("counter_deposits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_counter_deposits_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index("ix_counter_deposits_user_id", ["user_id"], unique=False)
        batch_op.create_index(
            "uq_counter_deposits_branch_receipt_no", ["branch", "receipt_no"], unique=True
        )

    op.create_table(
        "large_cash_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("deposit_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("customer_name_masked", sa.String(length=40), nullable=True),
        sa.Column("phone_masked", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("branch", sa.String(length=32), nullable=False),
        sa.Column("teller_id", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=32), nullable=True),
        sa.Column("approved_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_large_cash_records_amount_positive")),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["staff.id"], name=op.f("fk_large_cash_records_approved_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["deposit_id"],
            ["counter_deposits.id"],
            name=op.f("fk_large_cash_records_deposit_id_counter_deposits"),
        ),
        sa.ForeignKeyConstraint(
            ["teller_id"], ["staff.id"], name=op.f("fk_large_cash_records_teller_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_large_cash_records_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_large_cash_records")),
        sa.UniqueConstraint("deposit_id", name=op.f("uq_large_cash_records_deposit_id")),
    )
    with op.batch_alter_table("large_cash_records", schema=None) as batch_op:
        batch_op.create_index("ix_large_cash_records_occurred_at", ["occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("large_cash_records", schema=None) as batch_op:
        batch_op.drop_index("ix_large_cash_records_occurred_at")

    op.drop_table("large_cash_records")
    with op.batch_alter_table("counter_deposits", schema=None) as batch_op:
        batch_op.drop_index("uq_counter_deposits_branch_receipt_no")
        batch_op.drop_index("ix_counter_deposits_user_id")
        batch_op.drop_index("ix_counter_deposits_status_created_at")

    op.drop_table("counter_deposits")
