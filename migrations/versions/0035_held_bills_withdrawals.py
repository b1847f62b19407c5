"""bill payments and withdrawals held for risk review

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07

A bill payment or a withdrawal can now wait for a risk officer's decision on a ledger hold
(docs/risk-review.md), as transfers do since 0034. ``bill_payments``: ``status`` learns
``under_review`` and ``rejected``, ``ledger_transaction_id`` is null exactly while held or
after a rejection (still unique; checked by ``posted_unless_held``), and the payment names
its hold and review. ``withdrawals``: ``status`` learns the same two, and a withdrawal
names its review and when it was approved (the settle job's grace for an approved one
counts from then, not from its creation hours earlier). A downgrade with held or rejected
rows stored is refused by the old constraints rather than losing them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)

BILL_STATUSES = "status IN ('pending', 'succeeded', 'failed', 'under_review', 'rejected')"
OLD_BILL_STATUSES = "status IN ('pending', 'succeeded', 'failed')"
WITHDRAWAL_STATUSES = (
    "status IN ('processing', 'pending', 'succeeded', 'failed', 'under_review', 'rejected')"
)
OLD_WITHDRAWAL_STATUSES = "status IN ('processing', 'pending', 'succeeded', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("bill_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("review_id", sa.String(length=32), nullable=True))
        batch_op.alter_column(
            "ledger_transaction_id", existing_type=sa.String(length=32), nullable=True
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bill_payments_hold_id_ledger_holds"), "ledger_holds", ["hold_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bill_payments_review_id_risk_reviews"),
            "risk_reviews",
            ["review_id"],
            ["id"],
        )
        batch_op.drop_constraint(batch_op.f("ck_bill_payments_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_bill_payments_status_known"), BILL_STATUSES)
        batch_op.create_check_constraint(
            batch_op.f("ck_bill_payments_posted_unless_held"),
            "(ledger_transaction_id IS NULL) = (status IN ('under_review', 'rejected'))",
        )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("approved_at", UTC_TIME, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_withdrawals_review_id_risk_reviews"),
            "risk_reviews",
            ["review_id"],
            ["id"],
        )
        batch_op.drop_constraint(batch_op.f("ck_withdrawals_status_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_withdrawals_status_known"), WITHDRAWAL_STATUSES
        )


def downgrade() -> None:
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_withdrawals_status_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_withdrawals_status_known"), OLD_WITHDRAWAL_STATUSES
        )
        batch_op.drop_constraint(
            batch_op.f("fk_withdrawals_review_id_risk_reviews"), type_="foreignkey"
        )
        batch_op.drop_column("approved_at")
        batch_op.drop_column("review_id")
    with op.batch_alter_table("bill_payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_bill_payments_posted_unless_held"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_bill_payments_status_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bill_payments_status_known"), OLD_BILL_STATUSES
        )
        batch_op.drop_constraint(
            batch_op.f("fk_bill_payments_review_id_risk_reviews"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_bill_payments_hold_id_ledger_holds"), type_="foreignkey"
        )
        batch_op.alter_column(
            "ledger_transaction_id", existing_type=sa.String(length=32), nullable=False
        )
        batch_op.drop_column("review_id")
        batch_op.drop_column("hold_id")
