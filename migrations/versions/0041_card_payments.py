"""paying with a bound card when the balance is short (快捷支付)

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07

An order may now be paid from a bound card, or from the balance plus the card for the rest
(docs/card-payments.md). ``card_payments`` records each such payment while the bank is
asked and after: the card part is a card top-up earmarked for the order (``topup_id``),
the balance part a ledger hold (``hold_id``). ``orders.reserved_by`` names the card payment
an order waits for while the bank's answer is unknown, so no one else can pay it then; it
is nullable and empty for every existing order, so the upgrade rewrites nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "card_payments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("card_id", sa.String(length=32), nullable=False),
        sa.Column("topup_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_part", sa.BigInteger(), nullable=False),
        sa.Column("card_part", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("hold_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_card_payments_amount_positive")),
        sa.CheckConstraint("card_part > 0", name=op.f("ck_card_payments_card_part_positive")),
        sa.CheckConstraint(
            "balance_part >= 0", name=op.f("ck_card_payments_balance_part_not_negative")
        ),
        sa.CheckConstraint(
            "balance_part + card_part = amount", name=op.f("ck_card_payments_parts_sum_to_amount")
        ),
        sa.CheckConstraint(
            "source IN ('card', 'balance_and_card')", name=op.f("ck_card_payments_source_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'kept')",
            name=op.f("ck_card_payments_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_card_payments_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ledger_holds.id"], name=op.f("fk_card_payments_hold_id_ledger_holds")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_card_payments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["topup_id"], ["topups.id"], name=op.f("fk_card_payments_topup_id_topups")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_card_payments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_payments")),
    )
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_card_payments_user_id_created_at", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_card_payments_status", ["status"], unique=False)
        batch_op.create_index("uq_card_payments_topup_id", ["topup_id"], unique=True)
        batch_op.create_index(
            "uq_card_payments_user_id_request_key", ["user_id", "request_key"], unique=True
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reserved_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("reserved_by")
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.drop_index("uq_card_payments_user_id_request_key")
        batch_op.drop_index("uq_card_payments_topup_id")
        batch_op.drop_index("ix_card_payments_status")
        batch_op.drop_index("ix_card_payments_user_id_created_at")
    op.drop_table("card_payments")
