"""spending limits and transfers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spend_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("auth", sa.String(length=12), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_spend_records_amount_positive")),
        sa.CheckConstraint(
            "channel IN ('payment', 'payment_code', 'static_qr', 'transfer', 'bill', 'withdrawal')",
            name=op.f("ck_spend_records_channel_known"),
        ),
        sa.CheckConstraint(
            "auth IN ('none', 'pin', 'pin_and_sms')", name=op.f("ck_spend_records_auth_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_spend_records_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_records")),
        sa.UniqueConstraint("reference", name=op.f("uq_spend_records_reference")),
    )
    with op.batch_alter_table("spend_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_spend_records_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("payer_user_id", sa.String(length=32), nullable=False),
        sa.Column("payee_user_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("memo", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("ledger_transaction_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transfers_amount_positive")),
        sa.CheckConstraint("payer_user_id <> payee_user_id", name=op.f("ck_transfers_not_to_self")),
        sa.CheckConstraint("status IN ('succeeded')", name=op.f("ck_transfers_status_known")),
        sa.ForeignKeyConstraint(
            ["payee_user_id"], ["users.id"], name=op.f("fk_transfers_payee_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["payer_user_id"], ["users.id"], name=op.f("fk_transfers_payer_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint(
            "ledger_transaction_id", name=op.f("uq_transfers_ledger_transaction_id")
        ),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transfers_payee_user_id_created_at",
            ["payee_user_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_transfers_payer_user_id_created_at",
            ["payer_user_id", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_payer_user_id_created_at")
        batch_op.drop_index("ix_transfers_payee_user_id_created_at")
    op.drop_table("transfers")
    with op.batch_alter_table("spend_records", schema=None) as batch_op:
        batch_op.drop_index("ix_spend_records_user_id_created_at")
    op.drop_table("spend_records")
