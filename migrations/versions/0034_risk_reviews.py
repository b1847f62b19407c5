"""the risk review queue; transfers held for review

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07

``risk_reviews`` holds one row per movement held for review (unique by its spend
reference): the decision that held it, the ledger hold keeping its money, its SLA
(``due_at``, indexed with ``state`` for the queue) and, once decided, who decided what and
why. A transfer can now wait for that decision: ``status`` learns ``under_review`` and
``rejected``, ``ledger_transaction_id`` is null until it posts (still unique), and the
transfer names its hold and review. A downgrade with held or rejected transfers stored is
refused by the old constraints rather than losing them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "risk_reviews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("subject_id", sa.String(length=120), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("hold_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'approved', 'rejected')", name=op.f("ck_risk_reviews_state_known")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_risk_reviews_amount_positive")),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["risk_decisions.id"],
            name=op.f("fk_risk_reviews_decision_id_risk_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ledger_holds.id"], name=op.f("fk_risk_reviews_hold_id_ledger_holds")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risk_reviews_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_reviews")),
        sa.UniqueConstraint("reference", name=op.f("uq_risk_reviews_reference")),
    )
    op.create_index(
        op.f("ix_risk_reviews_decision_id"), "risk_reviews", ["decision_id"], unique=False
    )
    op.create_index(op.f("ix_risk_reviews_user_id"), "risk_reviews", ["user_id"], unique=False)
    op.create_index(
        "ix_risk_reviews_state_due_at", "risk_reviews", ["state", "due_at"], unique=False
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("review_id", sa.String(length=32), nullable=True))
        batch_op.alter_column(
            "ledger_transaction_id", existing_type=sa.String(length=32), nullable=True
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_transfers_hold_id_ledger_holds"), "ledger_holds", ["hold_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_transfers_review_id_risk_reviews"), "risk_reviews", ["review_id"], ["id"]
        )
        batch_op.drop_constraint(batch_op.f("ck_transfers_status_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_transfers_status_known"),
            "status IN ('succeeded', 'under_review', 'rejected')",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_transfers_posted_iff_succeeded"),
            "(status = 'succeeded') = (ledger_transaction_id IS NOT NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_transfers_posted_iff_succeeded"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_transfers_status_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_transfers_status_known"), "status IN ('succeeded')"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_transfers_review_id_risk_reviews"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_transfers_hold_id_ledger_holds"), type_="foreignkey"
        )
        batch_op.alter_column(
            "ledger_transaction_id", existing_type=sa.String(length=32), nullable=False
        )
        batch_op.drop_column("review_id")
        batch_op.drop_column("hold_id")
    op.drop_index("ix_risk_reviews_state_due_at", table_name="risk_reviews")
    op.drop_index(op.f("ix_risk_reviews_user_id"), table_name="risk_reviews")
    op.drop_index(op.f("ix_risk_reviews_decision_id"), table_name="risk_reviews")
    op.drop_table("risk_reviews")
