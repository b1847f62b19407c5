"""payment-code guessing budgets (payment_code_guards) and risk alerts

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ewallet.kit.db.base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = ewallet.kit.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "payment_code_guards",
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("window_started_at", UTC(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC(timezone=True), nullable=True),
        sa.CheckConstraint(
            "failures >= 0", name=op.f("ck_payment_code_guards_failures_not_negative")
        ),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_payment_code_guards")),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=120), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
    )
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_alerts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_alerts_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_alerts_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_alerts_subject_id"))
        batch_op.drop_index(batch_op.f("ix_risk_alerts_kind"))
        batch_op.drop_index(batch_op.f("ix_risk_alerts_created_at"))
    op.drop_table("risk_alerts")
    op.drop_table("payment_code_guards")
