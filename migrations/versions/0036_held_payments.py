"""online merchant payments held for risk review

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07

A payment of an order (``POST /v1/payments``, the checkout page, static QR) can now wait
for a risk officer's decision on a ledger hold (docs/risk-review.md), as transfers, bill
payments and withdrawals do since 0034-0035. It is deliberately not a ``payments`` row
while it waits -- refunds, settlement, reconciliation, statements and exports read
``payments`` as money that moved -- but a ``held_payments`` row; its order's ``status``
learns ``under_review``. A downgrade with an order under review stored is refused by the
old constraint rather than losing it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)

ORDER_STATUSES = "status IN ('awaiting_payment', 'under_review', 'paid', 'refunded', 'closed')"
OLD_ORDER_STATUSES = "status IN ('awaiting_payment', 'paid', 'refunded', 'closed')"


def upgrade() -> None:
    op.create_table(
        "held_payments",
        sa.Column("payment_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("auth", sa.String(length=20), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("hold_id", sa.String(length=32), nullable=False),
        sa.Column("review_id", sa.String(length=32), nullable=True),
        sa.Column("wallet_account_id", sa.BigInteger(), nullable=False),
        sa.Column("merchant_account_id", sa.BigInteger(), nullable=False),
        sa.Column("fee_account_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_held_payments_amount_positive")),
        sa.CheckConstraint(
            "fee >= 0 AND fee <= amount", name=op.f("ck_held_payments_fee_within_amount")
        ),
        sa.CheckConstraint(
            "state IN ('under_review', 'approved', 'rejected')",
            name=op.f("ck_held_payments_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ledger_holds.id"], name=op.f("fk_held_payments_hold_id_ledger_holds")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_held_payments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["risk_reviews.id"],
            name=op.f("fk_held_payments_review_id_risk_reviews"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_held_payments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_held_payments")),
    )
    with op.batch_alter_table("held_payments", schema=None) as batch_op:
        batch_op.create_index("ix_held_payments_order_id", ["order_id"], unique=False)
        batch_op.create_index(
            "uq_held_payments_user_id_request_key", ["user_id", "request_key"], unique=True
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_orders_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_orders_status_known"), ORDER_STATUSES)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_orders_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_orders_status_known"), OLD_ORDER_STATUSES)
    with op.batch_alter_table("held_payments", schema=None) as batch_op:
        batch_op.drop_index("uq_held_payments_user_id_request_key")
        batch_op.drop_index("ix_held_payments_order_id")
    op.drop_table("held_payments")
