"""risk rule sets, rules, decisions and their rule hits

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07

The risk engine's rules as data (versioned sets, one active), every decision with the
features it read and the rules that fired, and one row per fired rule for the daily hit
counts. ``spend_records`` learns who was paid (``counterparty``), indexed per payer and per
payee for the new-payee and payee-velocity features. No rows are seeded here: the first
decision (or the first staff read) writes version 1 with the default rules, idempotently
(docs/risk-rules.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ewallet.kit.db.base

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_rule_sets",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("activated_by", sa.String(length=64), nullable=True),
        sa.Column("activated_at", UTC_TIME, nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'active', 'retired')", name=op.f("ck_risk_rule_sets_state_known")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_risk_rule_sets")),
    )
    op.create_index(
        "uq_risk_rule_sets_active",
        "risk_rule_sets",
        ["state"],
        unique=True,
        postgresql_where=sa.text("state = 'active'"),
        sqlite_where=sa.text("state = 'active'"),
    )
    op.create_table(
        "risk_rules",
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("freeze_account", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "action IN ('challenge', 'review', 'block', 'report')",
            name=op.f("ck_risk_rules_action_known"),
        ),
        sa.CheckConstraint("mode IN ('live', 'shadow')", name=op.f("ck_risk_rules_mode_known")),
        sa.CheckConstraint(
            "action = 'block' OR NOT freeze_account", name=op.f("ck_risk_rules_freeze_only_blocks")
        ),
        sa.ForeignKeyConstraint(
            ["rule_set_version"],
            ["risk_rule_sets.version"],
            name=op.f("fk_risk_rules_rule_set_version_risk_rule_sets"),
        ),
        sa.PrimaryKeyConstraint("rule_set_version", "name", name=op.f("pk_risk_rules")),
    )
    op.create_table(
        "risk_decisions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("rule_set_version", sa.Integer(), nullable=True),
        sa.Column("features", JSON, nullable=False),
        sa.Column("fired", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "verdict IN ('allow', 'challenge', 'review', 'block')",
            name=op.f("ck_risk_decisions_verdict_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risk_decisions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_decisions")),
    )
    op.create_index(
        op.f("ix_risk_decisions_created_at"), "risk_decisions", ["created_at"], unique=False
    )
    op.create_index(
        "ix_risk_decisions_user_id_created_at",
        "risk_decisions",
        ["user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "risk_rule_hits",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("rule_name", sa.String(length=64), nullable=False),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["risk_decisions.id"],
            name=op.f("fk_risk_rule_hits_decision_id_risk_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_rule_hits")),
    )
    op.create_index(
        op.f("ix_risk_rule_hits_decision_id"), "risk_rule_hits", ["decision_id"], unique=False
    )
    op.create_index(
        "ix_risk_rule_hits_day_rule_name", "risk_rule_hits", ["day", "rule_name"], unique=False
    )
    with op.batch_alter_table("spend_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counterparty", sa.String(length=40), nullable=True))
        batch_op.create_index(
            "ix_spend_records_user_id_counterparty", ["user_id", "counterparty"], unique=False
        )
        batch_op.create_index(
            "ix_spend_records_counterparty_created_at",
            ["counterparty", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("spend_records", schema=None) as batch_op:
        batch_op.drop_index("ix_spend_records_counterparty_created_at")
        batch_op.drop_index("ix_spend_records_user_id_counterparty")
        batch_op.drop_column("counterparty")
    op.drop_index("ix_risk_rule_hits_day_rule_name", table_name="risk_rule_hits")
    op.drop_index(op.f("ix_risk_rule_hits_decision_id"), table_name="risk_rule_hits")
    op.drop_table("risk_rule_hits")
    op.drop_index("ix_risk_decisions_user_id_created_at", table_name="risk_decisions")
    op.drop_index(op.f("ix_risk_decisions_created_at"), table_name="risk_decisions")
    op.drop_table("risk_decisions")
    op.drop_table("risk_rules")
    op.drop_index("uq_risk_rule_sets_active", table_name="risk_rule_sets")
    op.drop_table("risk_rule_sets")
