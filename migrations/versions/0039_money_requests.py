"""receive codes, money requests and split bills

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07

Three new tables (docs/money-requests.md): ``money_receive_codes`` (one personal receive code
per customer, its token unique: a reset overwrites it), ``money_request_splits`` (a split
bill, the parent of one request per payer) and ``money_requests`` (``paid`` exactly when it
names the transfer that paid it, checked by ``paid_iff_transfer``). Nothing existing
changes, so the downgrade drops the three tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = ewallet.kit.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "money_receive_codes",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("fixed_amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("note", sa.String(length=50), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "fixed_amount IS NULL OR fixed_amount > 0",
            name=op.f("ck_money_receive_codes_fixed_amount_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_money_receive_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_money_receive_codes")),
        sa.UniqueConstraint("token", name=op.f("uq_money_receive_codes_token")),
    )
    op.create_table(
        "money_request_splits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("requester_user_id", sa.String(length=32), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("note", sa.String(length=50), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint("total > 0", name=op.f("ck_money_request_splits_total_positive")),
        sa.ForeignKeyConstraint(
            ["requester_user_id"],
            ["users.id"],
            name=op.f("fk_money_request_splits_requester_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_request_splits")),
    )
    op.create_index(
        "ix_money_request_splits_requester_created_at",
        "money_request_splits",
        ["requester_user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "money_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("requester_user_id", sa.String(length=32), nullable=False),
        sa.Column("payer_user_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("note", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("split_id", sa.String(length=32), nullable=True),
        sa.Column("transfer_id", sa.String(length=32), nullable=True),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("decided_at", UTC(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_money_requests_amount_positive")),
        sa.CheckConstraint(
            "requester_user_id <> payer_user_id", name=op.f("ck_money_requests_not_to_self")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'paid', 'declined', 'cancelled', 'expired')",
            name=op.f("ck_money_requests_status_known"),
        ),
        sa.CheckConstraint(
            "(status = 'paid') = (transfer_id IS NOT NULL)",
            name=op.f("ck_money_requests_paid_iff_transfer"),
        ),
        sa.ForeignKeyConstraint(
            ["payer_user_id"], ["users.id"], name=op.f("fk_money_requests_payer_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requester_user_id"],
            ["users.id"],
            name=op.f("fk_money_requests_requester_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["split_id"],
            ["money_request_splits.id"],
            name=op.f("fk_money_requests_split_id_money_request_splits"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_requests")),
        sa.UniqueConstraint("transfer_id", name=op.f("uq_money_requests_transfer_id")),
    )
    op.create_index(
        "ix_money_requests_payer_created_at",
        "money_requests",
        ["payer_user_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_money_requests_requester_created_at",
        "money_requests",
        ["requester_user_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_money_requests_split_id", "money_requests", ["split_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_money_requests_split_id", table_name="money_requests")
    op.drop_index("ix_money_requests_requester_created_at", table_name="money_requests")
    op.drop_index("ix_money_requests_payer_created_at", table_name="money_requests")
    op.drop_table("money_requests")
    op.drop_index("ix_money_request_splits_requester_created_at", table_name="money_request_splits")
    op.drop_table("money_request_splits")
    op.drop_table("money_receive_codes")
