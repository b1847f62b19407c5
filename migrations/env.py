"""Alembic environment: one history for SQLite and PostgreSQL.

ewallet runs migrations programmatically (``ewallet db upgrade``) and hands the open
connection in through ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

import ewallet.models  # noqa: F401  (registers every table on the metadata)
from ewallet.kit.db.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `ewallet db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline SQL generation is not supported; run `ewallet db upgrade`")
run_migrations_online()
