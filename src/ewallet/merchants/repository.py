"""All SQL of the merchant use cases; nothing here commits (the service's unit does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.db.locking import for_no_key_update
from ewallet.merchants.views import ApiKeyView, MerchantView
from ewallet.models.merchants import MerchantStatus
from ewallet.models.tables import merchant_api_keys as api_keys
from ewallet.models.tables import merchants

# Every column of a key but its digest: what views and lists read.
_KEY_FACTS = [column for column in api_keys.c if column.name != "digest"]


@dataclass(frozen=True, slots=True)
class MerchantKey:
    """What authenticating an API key reads: the key's digest and state, and its
    merchant's status."""

    merchant_id: str
    status: str
    digest: str
    revoked: bool
    last_used_on: date | None


@dataclass(frozen=True, slots=True)
class MerchantRecord:
    """The merchant's row: its view plus the sealed webhook secret."""

    view: MerchantView
    webhook_secret_encrypted: str


async def merchant_record(conn: AsyncConnection, merchant_id: str) -> MerchantRecord | None:
    row = (await conn.execute(select(merchants).where(merchants.c.id == merchant_id))).first()
    if row is None:
        return None
    return MerchantRecord(MerchantView.of(row), row.webhook_secret_encrypted)


async def key_of(conn: AsyncConnection, key_id: str) -> MerchantKey | None:
    """One primary-key read of the key joined to its merchant's status."""
    statement = (
        select(
            api_keys.c.merchant_id,
            merchants.c.status,
            api_keys.c.digest,
            api_keys.c.revoked_at,
            api_keys.c.last_used_on,
        )
        .join(merchants, merchants.c.id == api_keys.c.merchant_id)
        .where(api_keys.c.id == key_id)
    )
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return MerchantKey(
        row.merchant_id, row.status, row.digest, row.revoked_at is not None, row.last_used_on
    )


async def mark_key_used(conn: AsyncConnection, key_id: str, day: date) -> None:
    """Record ``day`` as the key's last use, unless it is recorded already (one conditional
    UPDATE: a key used all day long is written once)."""
    await conn.execute(
        update(api_keys)
        .where(
            api_keys.c.id == key_id,
            or_(api_keys.c.last_used_on.is_(None), api_keys.c.last_used_on != day),
        )
        .values(last_used_on=day)
    )


async def lock_merchant(conn: AsyncConnection, merchant_id: str) -> bool:
    """Lock the merchant's row while its keys change (FOR NO KEY UPDATE: inserting a key
    that points at it still may); False for no such merchant."""
    statement = for_no_key_update(select(merchants.c.id).where(merchants.c.id == merchant_id))
    return (await conn.execute(statement)).first() is not None


async def insert_key(
    conn: AsyncConnection,
    *,
    key_id: str,
    merchant_id: str,
    label: str,
    digest: str,
    created_at: datetime,
    created_by: str,
) -> None:
    await conn.execute(
        insert(api_keys).values(
            id=key_id,
            merchant_id=merchant_id,
            label=label,
            digest=digest,
            created_at=created_at,
            created_by=created_by,
        )
    )


async def key_view(conn: AsyncConnection, *, merchant_id: str, key_id: str) -> ApiKeyView | None:
    """The merchant's key ``key_id`` (None for another merchant's or none)."""
    statement = select(*_KEY_FACTS).where(
        api_keys.c.id == key_id, api_keys.c.merchant_id == merchant_id
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else ApiKeyView.of(row)


async def keys_of(
    conn: AsyncConnection, merchant_id: str, *, revoked_since: datetime
) -> list[ApiKeyView]:
    """The merchant's active keys, then those revoked since ``revoked_since``; newest first
    within each."""
    statement = (
        select(*_KEY_FACTS)
        .where(
            api_keys.c.merchant_id == merchant_id,
            or_(api_keys.c.revoked_at.is_(None), api_keys.c.revoked_at >= revoked_since),
        )
        .order_by(
            api_keys.c.revoked_at.is_(None).desc(),
            api_keys.c.revoked_at.desc(),
            api_keys.c.created_at.desc(),
            api_keys.c.id,
        )
    )
    return [ApiKeyView.of(row) for row in await conn.execute(statement)]


async def active_key_ids(conn: AsyncConnection, merchant_id: str) -> list[str]:
    statement = (
        select(api_keys.c.id)
        .where(api_keys.c.merchant_id == merchant_id, api_keys.c.revoked_at.is_(None))
        .order_by(api_keys.c.id)
    )
    return list((await conn.execute(statement)).scalars())


async def revoke_keys(
    conn: AsyncConnection, key_ids: list[str], *, revoked_at: datetime, revoked_by: str
) -> None:
    """Revoke these keys (those still active: a revoked key keeps its first revocation)."""
    await conn.execute(
        update(api_keys)
        .where(api_keys.c.id.in_(key_ids), api_keys.c.revoked_at.is_(None))
        .values(revoked_at=revoked_at, revoked_by=revoked_by)
    )


async def insert_merchant(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(merchants).values(**values))


async def update_merchant(
    conn: AsyncConnection, merchant_id: str, *, updated_at: datetime, **values: Any
) -> None:
    await conn.execute(
        update(merchants)
        .where(merchants.c.id == merchant_id)
        .values(**values, updated_at=updated_at)
    )


async def list_merchants(
    conn: AsyncConnection,
    *,
    search: str | None,
    status: MerchantStatus | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[MerchantView]:
    """Up to ``limit`` merchants newest first, from after the position ``(created_at, id)``.

    ``search`` is a merchant id (exactly) or a part of the name (any case, ``%`` and ``_``
    taken literally); ``status`` keeps one status only.
    """
    query = select(merchants)
    if search:
        query = query.where(
            or_(
                merchants.c.id == search,
                func.lower(merchants.c.name).contains(search.lower(), autoescape=True),
            )
        )
    if status is not None:
        query = query.where(merchants.c.status == status)
    if after is not None:
        created_at, merchant_id = after
        query = query.where(
            or_(
                merchants.c.created_at < created_at,
                and_(merchants.c.created_at == created_at, merchants.c.id < merchant_id),
            )
        )
    query = query.order_by(merchants.c.created_at.desc(), merchants.c.id.desc()).limit(limit)
    return [MerchantView.of(row) for row in await conn.execute(query)]
