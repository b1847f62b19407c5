"""payment codes and password-free payments

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = ewallet.kit.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "payment_code_secrets",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("lookup_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("freeze_event_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("rotated_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lookup_id >= 0 AND lookup_id < 100000000",
            name=op.f("ck_payment_code_secrets_lookup_id_range"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payment_code_secrets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_payment_code_secrets")),
        sa.UniqueConstraint("lookup_id", name=op.f("uq_payment_code_secrets_lookup_id")),
    )
    op.create_table(
        "payment_code_charges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("auth", sa.String(length=4), nullable=True),
        sa.Column("payment_id", sa.String(length=32), nullable=True),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("completed_at", UTC(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded')", name=op.f("ck_payment_code_charges_status_known")
        ),
        sa.CheckConstraint(
            "auth IN ('none', 'pin')", name=op.f("ck_payment_code_charges_auth_known")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_code_charges_amount_positive")),
        sa.CheckConstraint(
            "counter >= 0 AND counter < 10", name=op.f("ck_payment_code_charges_counter_range")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_payment_code_charges_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payment_code_charges_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payment_code_charges_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_code_charges")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payment_code_charges_order_id")),
        sa.UniqueConstraint(
            "user_id", "step", "counter", name="uq_payment_code_charges_user_id_step_counter"
        ),
    )
    with op.batch_alter_table("payment_code_charges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_code_charges_user_id_created_at", ["user_id", "created_at"], unique=False
        )
    op.create_table(
        "password_free_settings",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("per_payment_cap", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "per_payment_cap > 0", name=op.f("ck_password_free_settings_cap_positive")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_free_settings_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_password_free_settings")),
    )


def downgrade() -> None:
    op.drop_table("password_free_settings")
    with op.batch_alter_table("payment_code_charges", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_code_charges_user_id_created_at")
    op.drop_table("payment_code_charges")
    op.drop_table("payment_code_secrets")
