"""anti-money-laundering report records: large-value transactions and suspicious candidates

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07

Two new tables (docs/aml-reports.md): ``aml_report_candidates`` (large-value report rows,
unique per category, subject and day; suspicious candidates, unique per rule, subject and
day) and ``aml_exports`` (each export's day, format, counts and SHA-256). The collection
reads one Beijing day of transfers, payments, withdrawals and top-ups by ``created_at``,
so those tables get an index on it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base
import ewallet.kit.db.types

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)
CREATED_AT_INDEXED = ("transfers", "payments", "withdrawals", "topups")


def upgrade() -> None:
    op.create_table(
        "aml_report_candidates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("transaction_count", sa.Integer(), nullable=False),
        sa.Column("transaction_refs", ewallet.kit.db.types.JSONDocument, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("rule_name", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "kind IN ('large_value', 'suspicious')",
            name=op.f("ck_aml_report_candidates_kind_known"),
        ),
        sa.CheckConstraint(
            "state IN ('open', 'reported', 'dismissed')",
            name=op.f("ck_aml_report_candidates_state_known"),
        ),
        sa.CheckConstraint(
            "subject_type IN ('user', 'merchant')",
            name=op.f("ck_aml_report_candidates_subject_type_known"),
        ),
        sa.CheckConstraint(
            "amount >= 0 AND transaction_count >= 0",
            name=op.f("ck_aml_report_candidates_amounts_valid"),
        ),
        sa.CheckConstraint(
            "(kind = 'suspicious' AND rule_name IS NOT NULL)"
            " OR (kind = 'large_value' AND rule_name IS NULL)",
            name=op.f("ck_aml_report_candidates_rule_name_for_suspicious"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aml_report_candidates")),
    )
    op.create_index(
        "uq_aml_report_candidates_large_value",
        "aml_report_candidates",
        ["category", "subject_type", "subject_id", "business_day"],
        unique=True,
        postgresql_where=sa.text("kind = 'large_value'"),
        sqlite_where=sa.text("kind = 'large_value'"),
    )
    op.create_index(
        "uq_aml_report_candidates_suspicious",
        "aml_report_candidates",
        ["rule_name", "subject_type", "subject_id", "business_day"],
        unique=True,
        postgresql_where=sa.text("kind = 'suspicious'"),
        sqlite_where=sa.text("kind = 'suspicious'"),
    )
    op.create_index(
        "ix_aml_report_candidates_business_day",
        "aml_report_candidates",
        ["business_day", "kind"],
        unique=False,
    )
    op.create_table(
        "aml_exports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("format", sa.String(length=3), nullable=False),
        sa.Column("large_value_count", sa.Integer(), nullable=False),
        sa.Column("suspicious_count", sa.Integer(), nullable=False),
        sa.Column("transaction_count", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("exported_by", sa.String(length=40), nullable=False),
        sa.Column("exported_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("format IN ('csv', 'xml')", name=op.f("ck_aml_exports_format_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aml_exports")),
    )
    op.create_index("ix_aml_exports_business_day", "aml_exports", ["business_day"], unique=False)
    for table in CREATED_AT_INDEXED:
        op.create_index(f"ix_{table}_created_at", table, ["created_at"], unique=False)


def downgrade() -> None:
    for table in CREATED_AT_INDEXED:
        op.drop_index(f"ix_{table}_created_at", table_name=table)
    op.drop_index("ix_aml_exports_business_day", table_name="aml_exports")
    op.drop_table("aml_exports")
    op.drop_index("ix_aml_report_candidates_business_day", table_name="aml_report_candidates")
    op.drop_index("uq_aml_report_candidates_suspicious", table_name="aml_report_candidates")
    op.drop_index("uq_aml_report_candidates_large_value", table_name="aml_report_candidates")
    op.drop_table("aml_report_candidates")
