"""merchant API keys: several per merchant, each with a label, revocable

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07

A merchant had one API key on its own row (``api_key_id``, ``api_key_digest``,
``key_rotated_at``). Keys now live in ``merchant_api_keys``: every merchant's key moves
there (label ``default``, made by ``system`` when it was last rotated) and the three
columns leave ``merchants``.

SQLite cannot drop a column that a UNIQUE constraint names, and recreating ``merchants``
the usual batch way (copy, drop, rename) breaks the foreign keys of every table pointing
at it: the unit runs in one transaction with foreign keys on, so dropping the table
counts each referencing row as a violation that a rename never settles. Here the
violations are deferred to the commit and settled by inserting the rows back into the
new ``merchants`` (an inserted parent row clears the violations of the rows that point
at it). Downgrading puts the newest active key back on each merchant's row; a merchant
with only revoked keys gets the newest one's id with a digest no key can match, so a
revoked key never works again. Other active keys are lost on the way down.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)
# SQLite's copy of the merchants' rows while the table is made anew, both ways.
COPY_OUT_UP = (
    "CREATE TEMP TABLE merchants_0030 AS SELECT id, name, category, status, accepts_wallet, "
    "webhook_url, webhook_secret_encrypted, fee_rate_bp, fee_minimum, created_at, updated_at "
    "FROM merchants"
)
COPY_BACK_UP = (
    "INSERT INTO merchants (id, name, category, status, accepts_wallet, webhook_url, "
    "webhook_secret_encrypted, fee_rate_bp, fee_minimum, created_at, updated_at) "
    "SELECT id, name, category, status, accepts_wallet, webhook_url, "
    "webhook_secret_encrypted, fee_rate_bp, fee_minimum, created_at, updated_at "
    "FROM merchants_0030"
)
# Down: each merchant's newest active key, else its newest revoked key's id with a digest
# no key has (a real one is 64 hex characters), so a revoked key never works again.
COPY_OUT_DOWN = (
    "CREATE TEMP TABLE merchants_0030 AS SELECT m.*, "
    "(SELECT k.id FROM merchant_api_keys k WHERE k.id = m.key_id) AS api_key_id, "
    "(SELECT CASE WHEN k.revoked_at IS NULL THEN k.digest ELSE 'revoked' END "
    "FROM merchant_api_keys k WHERE k.id = m.key_id) AS api_key_digest, "
    "(SELECT k.created_at FROM merchant_api_keys k WHERE k.id = m.key_id) AS key_rotated_at "
    "FROM (SELECT merchants.*, "
    "(SELECT k.id FROM merchant_api_keys k WHERE k.merchant_id = merchants.id "
    "ORDER BY (k.revoked_at IS NULL) DESC, k.created_at DESC, k.id DESC LIMIT 1) AS key_id "
    "FROM merchants) m"
)
COPY_BACK_DOWN = (
    "INSERT INTO merchants (id, name, category, status, accepts_wallet, webhook_url, "
    "webhook_secret_encrypted, fee_rate_bp, fee_minimum, created_at, updated_at, "
    "api_key_id, api_key_digest, key_rotated_at) "
    "SELECT id, name, category, status, accepts_wallet, webhook_url, "
    "webhook_secret_encrypted, fee_rate_bp, fee_minimum, created_at, updated_at, "
    "api_key_id, api_key_digest, key_rotated_at FROM merchants_0030"
)
FILL_KEYS_DOWN = (
    "UPDATE merchants SET api_key_id = m.key_id, "
    "api_key_digest = CASE WHEN k.revoked_at IS NULL THEN k.digest ELSE 'revoked' END, "
    "key_rotated_at = k.created_at "
    "FROM (SELECT merchants.id AS merchant_id, "
    "(SELECT k.id FROM merchant_api_keys k WHERE k.merchant_id = merchants.id "
    "ORDER BY (k.revoked_at IS NULL) DESC, k.created_at DESC, k.id DESC LIMIT 1) AS key_id "
    "FROM merchants) m JOIN merchant_api_keys k ON k.id = m.key_id "
    "WHERE merchants.id = m.merchant_id"
)


def _merchants_columns(*, with_key: bool) -> list[sa.Column[Any] | sa.Constraint]:
    key: list[sa.Column[Any] | sa.Constraint] = []
    if with_key:
        key = [
            sa.Column("api_key_id", sa.String(length=24), nullable=False),
            sa.Column("api_key_digest", sa.String(length=64), nullable=False),
            sa.Column("key_rotated_at", UTC_TIME, nullable=False),
            sa.UniqueConstraint("api_key_id", name=op.f("uq_merchants_api_key_id")),
        ]
    return [
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("accepts_wallet", sa.Boolean(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret_encrypted", sa.String(length=400), nullable=False),
        sa.Column("fee_rate_bp", sa.Integer(), nullable=True),
        sa.Column("fee_minimum", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        *key,
        sa.CheckConstraint(
            "status IN ('active', 'disabled')", name=op.f("ck_merchants_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
    ]


def _recreate_sqlite_merchants(*, with_key: bool, copy_out: str, copy_back: str) -> None:
    """SQLite: ``merchants`` anew (with or without the key columns), its rows copied out
    and back; foreign keys checked at the commit."""
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute(copy_out)
    op.execute("DROP TABLE merchants")
    op.create_table("merchants", *_merchants_columns(with_key=with_key))
    op.execute(copy_back)
    op.execute("DROP TABLE merchants_0030")


def upgrade() -> None:
    op.create_table(
        "merchant_api_keys",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("last_used_on", sa.Date(), nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL)",
            name=op.f("ck_merchant_api_keys_revocation_has_an_actor"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_api_keys_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_api_keys")),
    )
    op.create_index(
        op.f("ix_merchant_api_keys_merchant_id"),
        "merchant_api_keys",
        ["merchant_id"],
        unique=False,
    )
    op.execute(
        "INSERT INTO merchant_api_keys (id, merchant_id, label, digest, created_at, created_by) "
        "SELECT api_key_id, id, 'default', api_key_digest, key_rotated_at, 'system' "
        "FROM merchants"
    )
    if op.get_bind().dialect.name == "sqlite":
        _recreate_sqlite_merchants(with_key=False, copy_out=COPY_OUT_UP, copy_back=COPY_BACK_UP)
        return
    op.drop_constraint(op.f("uq_merchants_api_key_id"), "merchants", type_="unique")
    op.drop_column("merchants", "key_rotated_at")
    op.drop_column("merchants", "api_key_digest")
    op.drop_column("merchants", "api_key_id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate_sqlite_merchants(with_key=True, copy_out=COPY_OUT_DOWN, copy_back=COPY_BACK_DOWN)
    else:
        op.add_column("merchants", sa.Column("api_key_id", sa.String(length=24), nullable=True))
        op.add_column("merchants", sa.Column("api_key_digest", sa.String(length=64), nullable=True))
        op.add_column("merchants", sa.Column("key_rotated_at", UTC_TIME, nullable=True))
        op.execute(FILL_KEYS_DOWN)
        for column in ("api_key_id", "api_key_digest", "key_rotated_at"):
            op.alter_column("merchants", column, nullable=False)
        op.create_unique_constraint(op.f("uq_merchants_api_key_id"), "merchants", ["api_key_id"])
    op.drop_index(op.f("ix_merchant_api_keys_merchant_id"), table_name="merchant_api_keys")
    op.drop_table("merchant_api_keys")
