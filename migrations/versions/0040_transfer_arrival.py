"""transfer arrival options, each user's default arrival, transfers to another's card

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07

A transfer learns when it reaches the payee (docs/transfers.md, PBoC 银发〔2016〕261号):
``arrival`` (``realtime`` for every existing row, by the server default), ``arrives_at``
(set exactly for the delayed ones, checked by ``arrives_at_iff_delayed``) and
``finished_at``; ``status`` learns ``scheduled``, ``cancelled`` and ``returned``. The new
table ``transfer_settings`` keeps a user's default arrival. A downgrade with delayed
transfers stored is refused by the old constraints rather than losing them.

``card_transfers`` (docs/card-transfers.md) holds transfers to another person's bank card:
the payee's name and card (encrypted, with its last four and bank), the amount and fee on
two ledger holds, the arrival option, and the bank's answer. New, so the downgrade drops it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = ewallet.kit.db.base.UTCDateTime
STATUSES = "'succeeded', 'under_review', 'rejected', 'scheduled', 'cancelled', 'returned'"
OLD_STATUSES = "'succeeded', 'under_review', 'rejected'"
ARRIVALS = "'realtime', '2h', 'next_day'"


def upgrade() -> None:
    _create_card_transfers()
    op.create_table(
        "transfer_settings",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("default_arrival", sa.String(length=8), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"default_arrival IN ({ARRIVALS})", name=op.f("ck_transfer_settings_arrival_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_transfer_settings_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_transfer_settings")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "arrival", sa.String(length=8), server_default=sa.text("'realtime'"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("arrives_at", UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("finished_at", UTC(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_transfers_status_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_transfers_status_known"), f"status IN ({STATUSES})"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_transfers_arrival_known"), f"arrival IN ({ARRIVALS})"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_transfers_arrives_at_iff_delayed"),
            "(arrival = 'realtime') = (arrives_at IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_transfers_arrives_at_iff_delayed"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_transfers_arrival_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_transfers_status_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_transfers_status_known"), f"status IN ({OLD_STATUSES})"
        )
        batch_op.drop_column("finished_at")
        batch_op.drop_column("arrives_at")
        batch_op.drop_column("arrival")
    op.drop_table("transfer_settings")
    op.drop_index("uq_card_transfers_user_id_request_key", table_name="card_transfers")
    op.drop_index("ix_card_transfers_status_updated_at", table_name="card_transfers")
    op.drop_index("ix_card_transfers_user_id_created_at", table_name="card_transfers")
    op.drop_table("card_transfers")


CARD_STATUSES = "'scheduled', 'processing', 'pending', 'succeeded', 'failed', 'cancelled'"


def _create_card_transfers() -> None:
    op.create_table(
        "card_transfers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("payee_name", sa.String(length=40), nullable=False),
        sa.Column("card_number_encrypted", sa.Text(), nullable=False),
        sa.Column("card_last_four", sa.String(length=4), nullable=False),
        sa.Column("bank_code", sa.String(length=16), nullable=False),
        sa.Column("bank_name", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("arrival", sa.String(length=8), nullable=False),
        sa.Column("arrives_at", UTC(timezone=True), nullable=True),
        sa.Column("hold_id", sa.String(length=32), nullable=True),
        sa.Column("fee_hold_id", sa.String(length=32), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("bank_reference", sa.String(length=64), nullable=True),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("sent_at", UTC(timezone=True), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("finished_at", UTC(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_card_transfers_amount_positive")),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_card_transfers_fee_not_negative")),
        sa.CheckConstraint(
            f"status IN ({CARD_STATUSES})", name=op.f("ck_card_transfers_status_known")
        ),
        sa.CheckConstraint(
            f"arrival IN ({ARRIVALS})", name=op.f("ck_card_transfers_arrival_known")
        ),
        sa.CheckConstraint(
            "(arrival = 'realtime') = (arrives_at IS NULL)",
            name=op.f("ck_card_transfers_arrives_at_iff_delayed"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_card_transfers_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ledger_holds.id"], name=op.f("fk_card_transfers_hold_id_ledger_holds")
        ),
        sa.ForeignKeyConstraint(
            ["fee_hold_id"],
            ["ledger_holds.id"],
            name=op.f("fk_card_transfers_fee_hold_id_ledger_holds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_transfers")),
    )
    op.create_index(
        "ix_card_transfers_user_id_created_at",
        "card_transfers",
        ["user_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_card_transfers_status_updated_at",
        "card_transfers",
        ["status", "updated_at"],
        unique=False,
    )
    op.create_index(
        "uq_card_transfers_user_id_request_key",
        "card_transfers",
        ["user_id", "request_key"],
        unique=True,
    )
