"""watch-list names re-normalised: Han characters read one at a time

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-07

pypinyin now runs without its 400,000-phrase dictionary (``ewallet.kit.pinyin``: 44 MB
per process), and a name's Han characters are read one at a time, with three given-name
readings of our own (docs/risk-watchlist.md, "Normalisation"). The pinyin keys stored with
each ``watchlist_entries`` row were computed the old way, and screening compares the keys
of a name normalised *now* with the stored ones, so every entry is normalised again and
the rows whose forms changed are rewritten (460 of 590,520 generated names: 陆佰 was *liu
bai*, now *lu bai*; 贾人 *gu ren*, now *jia ren*; 王长 *wang zhang*, now *wang chang*).

This migration calls the application's normaliser on purpose: the stored keys must equal
what the running code computes, whatever that code is when the migration runs. A database
migrated later than this code changes gets the later normaliser's keys, which is what its
code will compare against. The watch-list version is not bumped: no process is serving
during a migration, so none holds an index of the old keys.

Downgrade changes nothing: the earlier normaliser cannot be run from here, and its code
reading these keys mismatches only the few names above (their Han form still matches at
100; docs/risk-watchlist.md, "Matching"). Reloading the lists (``ewallet watchlist load
--replace``) restores the old keys exactly.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ewallet.risk.watchlist.normalise import normalise_name

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_SEPARATOR = "|"  # as ewallet.risk.watchlist.repository stores the keys
BATCH = 5_000

entries = sa.table(
    "watchlist_entries",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("name_han", sa.String),
    sa.column("name_keys", sa.String),
)


def upgrade() -> None:
    bind = op.get_bind()
    after = ""
    while True:
        rows = bind.execute(
            sa.select(entries.c.id, entries.c.name, entries.c.name_han, entries.c.name_keys)
            .where(entries.c.id > after)
            .order_by(entries.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changed = []
        for row in rows:
            normalised = normalise_name(row.name)
            keys = KEY_SEPARATOR.join(normalised.keys)
            if (normalised.han, keys) != (row.name_han, row.name_keys):
                changed.append({"entry_id": row.id, "han": normalised.han, "keys": keys})
        if changed:
            bind.execute(
                entries.update()
                .where(entries.c.id == sa.bindparam("entry_id"))
                .values(name_han=sa.bindparam("han"), name_keys=sa.bindparam("keys")),
                changed,
            )
        after = rows[-1].id


def downgrade() -> None:
    """Nothing to undo (see the module docstring)."""
