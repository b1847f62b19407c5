"""Merchant use cases: create, rotate the API key, change settings, authenticate a key.

Creating a merchant opens its ledger account (``merchant:<id>:CNY``, a liability: what the
wallet owes the merchant) so the first payment never has to. Every staff change is
audit-logged in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UnauthorizedError
from ewallet.kit.ids import new_id
from ewallet.ledger import Ledger, chart
from ewallet.merchants.keys import issue_api_key, key_id_of, key_matches, new_webhook_secret
from ewallet.models.tables import merchants
from ewallet.security.context import SecurityContext

DEFAULT_CATEGORY = "general"


@dataclass(frozen=True, slots=True)
class MerchantView:
    id: str
    name: str
    category: str
    status: str
    accepts_wallet: bool
    webhook_url: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> MerchantView:
        return cls(
            id=row.id,
            name=row.name,
            category=row.category,
            status=row.status,
            accepts_wallet=bool(row.accepts_wallet),
            webhook_url=row.webhook_url,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@dataclass(frozen=True, slots=True)
class NewMerchant:
    """A created merchant with its credentials, shown this once."""

    merchant: MerchantView
    api_key: str
    webhook_secret: str


@dataclass(frozen=True, slots=True)
class MerchantPrincipal:
    """The merchant behind a request's API key."""

    merchant_id: str


def webhook_secret_context(merchant_id: str) -> str:
    return f"webhook_secret:{merchant_id}"


async def _audit(
    uow: UnitOfWork, clock: Clock, actor: Actor, action: str, merchant_id: str, **details: Any
) -> None:
    await record_event(
        await uow.connection(),
        clock=clock,
        actor=actor,
        action=action,
        subject_type="merchant",
        subject_id=merchant_id,
        details=details,
    )


async def _row(uow: UnitOfWork, merchant_id: str) -> Any:
    conn = await uow.connection()
    row = (await conn.execute(select(merchants).where(merchants.c.id == merchant_id))).first()
    if row is None:
        raise NotFoundError("no such merchant")
    return row


async def create_merchant(
    engine: AsyncEngine,
    *,
    ledger: Ledger,
    security: SecurityContext,
    clock: Clock,
    actor: Actor,
    name: str,
    category: str = DEFAULT_CATEGORY,
    accepts_wallet: bool = True,
    webhook_url: str | None = None,
) -> NewMerchant:
    merchant_id = new_id("mch")
    key = issue_api_key(security.digest)
    secret = new_webhook_secret()
    await chart.open_account(ledger, chart.merchant(merchant_id))

    async def work(uow: UnitOfWork) -> MerchantView:
        now = clock.now()
        conn = await uow.connection()
        await conn.execute(
            insert(merchants).values(
                id=merchant_id,
                name=name,
                category=category,
                status="active",
                accepts_wallet=accepts_wallet,
                webhook_url=webhook_url,
                api_key_id=key.key_id,
                api_key_digest=key.digest,
                webhook_secret_encrypted=security.cipher.encrypt(
                    secret, context=webhook_secret_context(merchant_id)
                ),
                key_rotated_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        await _audit(uow, clock, actor, "merchant.created", merchant_id, name=name)
        return MerchantView.of(await _row(uow, merchant_id))

    view = await run_unit(engine, work)
    return NewMerchant(merchant=view, api_key=key.plain, webhook_secret=secret)


async def rotate_api_key(
    engine: AsyncEngine,
    *,
    security: SecurityContext,
    clock: Clock,
    actor: Actor,
    merchant_id: str,
) -> tuple[MerchantView, str]:
    """A new API key; the old one stops working when this commits. Returns the new key."""
    key = issue_api_key(security.digest)

    async def work(uow: UnitOfWork) -> MerchantView:
        await _row(uow, merchant_id)
        now = clock.now()
        conn = await uow.connection()
        await conn.execute(
            update(merchants)
            .where(merchants.c.id == merchant_id)
            .values(
                api_key_id=key.key_id, api_key_digest=key.digest, key_rotated_at=now, updated_at=now
            )
        )
        await _audit(uow, clock, actor, "merchant.key_rotated", merchant_id)
        return MerchantView.of(await _row(uow, merchant_id))

    return await run_unit(engine, work), key.plain


async def update_merchant(
    engine: AsyncEngine,
    *,
    clock: Clock,
    actor: Actor,
    merchant_id: str,
    changes: dict[str, Any],
) -> MerchantView:
    """Apply ``changes`` (name, category, status, accepts_wallet, webhook_url) as given."""
    allowed = {"name", "category", "status", "accepts_wallet", "webhook_url"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")

    async def work(uow: UnitOfWork) -> MerchantView:
        before = await _row(uow, merchant_id)
        if changes:
            conn = await uow.connection()
            await conn.execute(
                update(merchants)
                .where(merchants.c.id == merchant_id)
                .values(**changes, updated_at=clock.now())
            )
            old = {name: getattr(before, name) for name in changes}
            await _audit(
                uow, clock, actor, "merchant.updated", merchant_id, before=old, after=changes
            )
        return MerchantView.of(await _row(uow, merchant_id))

    return await run_unit(engine, work)


async def get_merchant(engine: AsyncEngine, merchant_id: str) -> MerchantView:
    async def work(uow: UnitOfWork) -> MerchantView:
        return MerchantView.of(await _row(uow, merchant_id))

    return await run_unit(engine, work, read_only=True)


async def authenticate(
    engine: AsyncEngine, *, security: SecurityContext, api_key: str
) -> MerchantPrincipal:
    """The active merchant whose key this is; ``unauthorized`` for anything else."""
    key_id = key_id_of(api_key)
    if key_id is None:
        raise UnauthorizedError("not a merchant API key")

    async def work(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        statement = select(merchants.c.id, merchants.c.status, merchants.c.api_key_digest).where(
            merchants.c.api_key_id == key_id
        )
        return (await conn.execute(statement)).first()

    row = await run_unit(engine, work, read_only=True)
    if row is None or not key_matches(security.digest, api_key, row.api_key_digest):
        raise UnauthorizedError("unknown or rotated merchant API key")
    if row.status != "active":
        raise UnauthorizedError("this merchant is disabled")
    return MerchantPrincipal(merchant_id=row.id)


async def webhook_secret(
    engine: AsyncEngine, *, security: SecurityContext, merchant_id: str
) -> tuple[str, str | None]:
    """(the merchant's webhook secret in clear, its default webhook URL), for signing."""

    async def work(uow: UnitOfWork) -> Any:
        return await _row(uow, merchant_id)

    row = await run_unit(engine, work, read_only=True)
    secret = security.cipher.decrypt(
        row.webhook_secret_encrypted, context=webhook_secret_context(merchant_id)
    )
    return secret, row.webhook_url
