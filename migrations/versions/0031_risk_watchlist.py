"""risk watch-list entries and screening matches

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07

The watch list (docs/risk-watchlist.md): ``watchlist_loads`` (one row per CSV load, its
``version`` the list's change counter), ``watchlist_entries`` (the names with their
normalised forms; ID numbers only as keyed digests) and ``watchlist_hits`` (matches found
by screening, for risk officers to clear or confirm). Three new tables, nothing else
touched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "watchlist_loads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("entries_added", sa.Integer(), nullable=False),
        sa.Column("entries_removed", sa.Integer(), nullable=False),
        sa.Column("loaded_by", sa.String(length=80), nullable=False),
        sa.Column("loaded_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "mode IN ('append', 'replace')", name=op.f("ck_watchlist_loads_mode_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_loads")),
        sa.UniqueConstraint("version", name=op.f("uq_watchlist_loads_version")),
    )
    op.create_index(
        "ix_watchlist_loads_loaded_at_id", "watchlist_loads", ["loaded_at", "id"], unique=False
    )
    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_han", sa.String(length=200), nullable=True),
        sa.Column("name_keys", sa.String(length=1000), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("id_number_digest", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("loaded_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["watchlist_loads.id"],
            name=op.f("fk_watchlist_entries_batch_id_watchlist_loads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_entries")),
    )
    op.create_index(
        op.f("ix_watchlist_entries_batch_id"), "watchlist_entries", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_watchlist_entries_list_name"), "watchlist_entries", ["list_name"], unique=False
    )
    op.create_table(
        "watchlist_hits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=120), nullable=False),
        sa.Column("context", sa.String(length=16), nullable=False),
        sa.Column("screened_name_encrypted", sa.Text(), nullable=False),
        sa.Column("screened_name_masked", sa.String(length=200), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("entry_name", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "context IN ('realname', 'transfer')", name=op.f("ck_watchlist_hits_context_known")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'cleared', 'confirmed')", name=op.f("ck_watchlist_hits_state_known")
        ),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name=op.f("ck_watchlist_hits_score_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_hits")),
    )
    op.create_index(
        "ix_watchlist_hits_state_created_at",
        "watchlist_hits",
        ["state", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_watchlist_hits_subject", "watchlist_hits", ["subject_type", "subject_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_watchlist_hits_subject", table_name="watchlist_hits")
    op.drop_index("ix_watchlist_hits_state_created_at", table_name="watchlist_hits")
    op.drop_table("watchlist_hits")
    op.drop_index(op.f("ix_watchlist_entries_list_name"), table_name="watchlist_entries")
    op.drop_index(op.f("ix_watchlist_entries_batch_id"), table_name="watchlist_entries")
    op.drop_table("watchlist_entries")
    op.drop_index("ix_watchlist_loads_loaded_at_id", table_name="watchlist_loads")
    op.drop_table("watchlist_loads")
