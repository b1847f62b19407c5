"""ledger: postings and transactions are append-only, enforced by the database

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Any UPDATE or DELETE of a posting or a transaction raises, on both backends, whoever
issues it: corrections are reversals. (TRUNCATE, a maintenance tool, is not a row event.)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("ledger_postings", "ledger_transactions")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ledger rows are append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
        return
    for table in TABLES:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: {event} on {table} "
                "refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION ledger_append_only()")
        return
    for table in TABLES:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{event}")
