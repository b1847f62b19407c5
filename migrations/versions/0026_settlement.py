"""merchant and biller settlement: payout accounts, settlement runs, payouts and statements

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

Two new tables (docs/settlement.md): ``payout_accounts`` (where a merchant or biller is
paid; the number encrypted) and ``settlements`` (one row per party per business day,
unique, carrying its payout's status and bank request id). Plain ``create_table``: no
existing table is touched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ewallet.kit.db.base import UTCDateTime

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payout_accounts",
        sa.Column("party_kind", sa.String(length=12), nullable=False),
        sa.Column("party_id", sa.String(length=32), nullable=False),
        sa.Column("account_number_encrypted", sa.String(length=255), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("holder_name", sa.String(length=64), nullable=False),
        sa.Column("bank_code", sa.String(length=16), nullable=False),
        sa.Column("bank_name", sa.String(length=40), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "party_kind IN ('merchant', 'biller')",
            name=op.f("ck_payout_accounts_party_kind_known"),
        ),
        sa.PrimaryKeyConstraint("party_kind", "party_id", name=op.f("pk_payout_accounts")),
    )
    op.create_table(
        "settlements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("party_kind", sa.String(length=12), nullable=False),
        sa.Column("party_id", sa.String(length=32), nullable=False),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", UTCDateTime(timezone=True), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("carried_in", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("hold_id", sa.String(length=32), nullable=True),
        sa.Column("bank_request_id", sa.String(length=64), nullable=True),
        sa.Column("bank_code", sa.String(length=16), nullable=True),
        sa.Column("account_last4", sa.String(length=4), nullable=True),
        sa.Column("bank_reference", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "party_kind IN ('merchant', 'biller')", name=op.f("ck_settlements_party_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('carried', 'processing', 'pending', 'paid', 'failed')",
            name=op.f("ck_settlements_status_known"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_settlements_amount_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint(
            "party_kind", "party_id", "business_day", name="uq_settlements_party_day"
        ),
        sa.UniqueConstraint("bank_request_id", name=op.f("uq_settlements_bank_request_id")),
    )
    op.create_index("ix_settlements_status", "settlements", ["status"], unique=False)
    op.create_index("ix_settlements_business_day", "settlements", ["business_day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_settlements_business_day", table_name="settlements")
    op.drop_index("ix_settlements_status", table_name="settlements")
    op.drop_table("settlements")
    op.drop_table("payout_accounts")
