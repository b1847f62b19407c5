"""ledger: hot accounts credited through balance deltas, without the row lock

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26

``ledger_accounts.hot`` marks the accounts many concurrent entries touch (merchants, bank
settlement, PSP clearing, fee revenue, biller payables; set here for those already open).
``ledger_balance_deltas`` holds their not yet folded balance changes, and
``ledger_postings.balance_after`` becomes optional: a hot account's postings carry none.

SQLite cannot drop NOT NULL in place: the postings table is rebuilt from its full
definition below, and the append-only triggers of 0002, which go with the old table, are
created again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOT_KINDS = ("merchant", "bank_settlement", "psp_clearing", "fee_revenue", "biller_payable")


def _postings_table(*, balance_after_nullable: bool) -> sa.Table:
    """ledger_postings as 0001 made it, with ``balance_after``'s nullability as given."""
    return sa.Table(
        "ledger_postings",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=balance_after_nullable),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_ledger_postings_amount_non_zero"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name="fk_ledger_postings_account_id_ledger_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name="fk_ledger_postings_transaction_id_ledger_transactions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_postings"),
        sa.Index("ix_ledger_postings_account_id_id", "account_id", "id"),
        sa.Index("ix_ledger_postings_transaction_id", "transaction_id"),
    )


def _sqlite_append_only_triggers(action: str) -> None:
    for event in ("update", "delete"):
        name = f"ledger_postings_no_{event}"
        if action == "drop":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            continue
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {event.upper()} ON ledger_postings "
            f"BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: {event.upper()} on "
            "ledger_postings refused'); END"
        )


def _set_balance_after_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("ledger_postings", "balance_after", nullable=nullable)
        return
    _sqlite_append_only_triggers("drop")
    with op.batch_alter_table(
        "ledger_postings",
        copy_from=_postings_table(balance_after_nullable=not nullable),
        recreate="always",
    ) as batch_op:
        batch_op.alter_column("balance_after", existing_type=sa.BigInteger(), nullable=nullable)
    _sqlite_append_only_triggers("create")


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hot", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    accounts = sa.table(
        "ledger_accounts", sa.column("kind", sa.String), sa.column("hot", sa.Boolean)
    )
    op.execute(accounts.update().where(accounts.c.kind.in_(HOT_KINDS)).values(hot=True))
    op.create_table(
        "ledger_balance_deltas",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", ewallet.kit.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_balance_deltas_account_id_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_balance_deltas")),
    )
    with op.batch_alter_table("ledger_balance_deltas", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_balance_deltas_account_id"), ["account_id"], unique=False
        )
    _set_balance_after_nullable(True)


def downgrade() -> None:
    # Deltas not folded yet would be lost with their table: fold them first
    # (``ewallet ledger fold``); hot postings' missing balance_after cannot be restored.
    _set_balance_after_nullable(False)
    with op.batch_alter_table("ledger_balance_deltas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_balance_deltas_account_id"))
    op.drop_table("ledger_balance_deltas")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_column("hot")
