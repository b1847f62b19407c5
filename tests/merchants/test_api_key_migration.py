"""Migration 0030 on a database with merchants in it (SQLite and PostgreSQL): every key moves
from its merchant's row into ``merchant_api_keys`` and the three columns go, while the rows
pointing at ``merchants`` keep pointing at it; down again, each merchant gets back its
newest active key -- or, with only revoked keys, an id whose digest nothing matches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.db.base import UTCDateTime
from ewallet.models import migrate
from tests.integration.test_migrations import empty_database_url, empty_engine

__all__ = ["empty_database_url", "empty_engine"]

WHEN = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
LATER = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DIGEST_1 = "1" * 64
DIGEST_2 = "2" * 64
DIGEST_3 = "3" * 64

merchants_0029 = sa.table(
    "merchants",
    sa.column("id"),
    sa.column("name"),
    sa.column("category"),
    sa.column("status"),
    sa.column("accepts_wallet", sa.Boolean()),
    sa.column("webhook_url"),
    sa.column("api_key_id"),
    sa.column("api_key_digest"),
    sa.column("webhook_secret_encrypted"),
    sa.column("key_rotated_at", UTCDateTime()),
    sa.column("fee_rate_bp"),
    sa.column("fee_minimum"),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
merchant_users = sa.table(
    "merchant_users",
    sa.column("id"),
    sa.column("merchant_id"),
    sa.column("email"),
    sa.column("name"),
    sa.column("role"),
    sa.column("password_hash"),
    sa.column("must_change_password", sa.Boolean()),
    sa.column("status"),
    sa.column("failures"),
    sa.column("created_by"),
    sa.column("created_at", UTCDateTime()),
)
api_keys = sa.table(
    "merchant_api_keys",
    sa.column("id"),
    sa.column("merchant_id"),
    sa.column("label"),
    sa.column("digest"),
    sa.column("created_at", UTCDateTime()),
    sa.column("created_by"),
    sa.column("revoked_at", UTCDateTime()),
    sa.column("revoked_by"),
)


def _move(connection: Connection, target: str, *, up: bool) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    (command.upgrade if up else command.downgrade)(config, target)


async def move(engine: AsyncEngine, target: str, *, up: bool = True) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: _move(sync, target, up=up))


def merchant(merchant_id: str, key_id: str, digest: str) -> dict[str, object]:
    return {
        "id": merchant_id,
        "name": f"Shop {merchant_id}",
        "category": "general",
        "status": "active",
        "accepts_wallet": True,
        "webhook_url": None,
        "api_key_id": key_id,
        "api_key_digest": digest,
        "webhook_secret_encrypted": "sealed",
        "key_rotated_at": WHEN,
        "fee_rate_bp": 55,
        "fee_minimum": None,
        "created_at": WHEN,
        "updated_at": WHEN,
    }


def person(user_id: str, merchant_id: str) -> dict[str, object]:
    return {
        "id": user_id,
        "merchant_id": merchant_id,
        "email": f"{user_id}@shop.example",
        "name": "Owner",
        "role": "owner",
        "password_hash": "x",
        "must_change_password": True,
        "status": "active",
        "failures": 0,
        "created_by": "staff:s1",
        "created_at": WHEN,
    }


async def columns_of(engine: AsyncEngine, table: str) -> set[str]:
    async with engine.connect() as conn:
        found = await conn.run_sync(lambda sync: inspect(sync).get_columns(table))
    return {column["name"] for column in found}


async def test_keys_move_out_of_merchants_and_back(empty_engine: AsyncEngine) -> None:
    engine = empty_engine
    await move(engine, "0029")
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(merchants_0029),
            [
                merchant("mch_1", "aaaaaaaaaaaaaaa1", DIGEST_1),
                merchant("mch_2", "bbbbbbbbbbbbbbb2", DIGEST_2),
            ],
        )
        await conn.execute(sa.insert(merchant_users), [person("mu_1", "mch_1")])

    await move(engine, "0030")
    assert {"api_key_id", "api_key_digest", "key_rotated_at"}.isdisjoint(
        await columns_of(engine, "merchants")
    )
    async with engine.connect() as conn:
        keys = (await conn.execute(sa.select(api_keys).order_by(api_keys.c.id))).all()
        fees = (
            await conn.execute(sa.text("SELECT id, fee_rate_bp FROM merchants ORDER BY id"))
        ).all()
        people = (await conn.execute(sa.text("SELECT merchant_id FROM merchant_users"))).all()
    assert [tuple(k) for k in keys] == [
        ("aaaaaaaaaaaaaaa1", "mch_1", "default", DIGEST_1, WHEN, "system", None, None),
        ("bbbbbbbbbbbbbbb2", "mch_2", "default", DIGEST_2, WHEN, "system", None, None),
    ]
    assert [tuple(f) for f in fees] == [("mch_1", 55), ("mch_2", 55)]
    assert [tuple(p) for p in people] == [("mch_1",)]
    # The foreign keys into the new merchants table still hold.
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(sa.insert(merchant_users), [person("mu_9", "mch_nope")])
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(api_keys),
                [
                    {
                        "id": "c" * 16,
                        "merchant_id": "mch_nope",
                        "label": "x",
                        "digest": DIGEST_3,
                        "created_at": LATER,
                        "created_by": "system",
                    }
                ],
            )

    # mch_1 gets a newer key; mch_2's only key is revoked.
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(api_keys),
            [
                {
                    "id": "c" * 16,
                    "merchant_id": "mch_1",
                    "label": "till",
                    "digest": DIGEST_3,
                    "created_at": LATER,
                    "created_by": "merchant:mu_1",
                }
            ],
        )
        await conn.execute(
            sa.update(api_keys)
            .where(api_keys.c.id == "bbbbbbbbbbbbbbb2")
            .values(revoked_at=LATER, revoked_by="merchant:mch_2")
        )
    await move(engine, "0029", up=False)
    assert "merchant_api_keys" not in await table_names(engine)
    async with engine.connect() as conn:
        back = (
            await conn.execute(
                sa.select(
                    merchants_0029.c.id,
                    merchants_0029.c.api_key_id,
                    merchants_0029.c.api_key_digest,
                    merchants_0029.c.key_rotated_at,
                    merchants_0029.c.fee_rate_bp,
                ).order_by(merchants_0029.c.id)
            )
        ).all()
        people = (await conn.execute(sa.text("SELECT merchant_id FROM merchant_users"))).all()
    assert [tuple(b) for b in back] == [
        ("mch_1", "c" * 16, DIGEST_3, LATER, 55),
        ("mch_2", "bbbbbbbbbbbbbbb2", "revoked", WHEN, 55),
    ]
    assert [tuple(p) for p in people] == [("mch_1",)]
    # And up once more, to the head.
    await move(engine, "head")
    assert await migrate.current_revision(engine) == migrate.head_revision()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
