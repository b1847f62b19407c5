"""All SQL of the payment-link use cases; nothing here commits (the service's unit does)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.payment_links import PaymentLinkStatus
from ewallet.models.tables import merchants, payment_links
from ewallet.payments.payment_links.views import PaymentLinkView

_WITH_MERCHANT = select(payment_links, merchants.c.name.label("merchant_name")).select_from(
    payment_links.join(merchants, merchants.c.id == payment_links.c.merchant_id)
)


async def insert_link(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(payment_links).values(**values))


async def link_view(
    conn: AsyncConnection,
    *,
    now: datetime,
    link_id: str | None = None,
    token: str | None = None,
    merchant_id: str | None = None,
) -> PaymentLinkView | None:
    """The link by id or by token; with ``merchant_id``, only if it is that merchant's."""
    statement = _WITH_MERCHANT
    if link_id is not None:
        statement = statement.where(payment_links.c.id == link_id)
    if token is not None:
        statement = statement.where(payment_links.c.token == token)
    if merchant_id is not None:
        statement = statement.where(payment_links.c.merchant_id == merchant_id)
    row = (await conn.execute(statement)).first()
    return (
        None if row is None else PaymentLinkView.of(row, merchant_name=row.merchant_name, now=now)
    )


async def list_links(
    conn: AsyncConnection,
    *,
    merchant_id: str,
    after: tuple[datetime, str] | None,
    limit: int,
    now: datetime,
) -> list[PaymentLinkView]:
    """Up to ``limit`` of the merchant's links newest first, from after ``(created_at, id)``."""
    statement = _WITH_MERCHANT.where(payment_links.c.merchant_id == merchant_id)
    if after is not None:
        created_at, link_id = after
        statement = statement.where(
            or_(
                payment_links.c.created_at < created_at,
                and_(payment_links.c.created_at == created_at, payment_links.c.id < link_id),
            )
        )
    statement = statement.order_by(
        payment_links.c.created_at.desc(), payment_links.c.id.desc()
    ).limit(limit)
    return [
        PaymentLinkView.of(row, merchant_name=row.merchant_name, now=now)
        for row in await conn.execute(statement)
    ]


async def disable_link(
    conn: AsyncConnection, *, link_id: str, merchant_id: str, now: datetime
) -> bool:
    """Disable the merchant's link if it is not yet; whether this call disabled it."""
    changed = await conn.execute(
        update(payment_links)
        .where(
            payment_links.c.id == link_id,
            payment_links.c.merchant_id == merchant_id,
            payment_links.c.status == PaymentLinkStatus.ACTIVE,
        )
        .values(status=PaymentLinkStatus.DISABLED, disabled_at=now, updated_at=now)
    )
    return bool(changed.rowcount == 1)


async def take_use(conn: AsyncConnection, *, link_id: str, now: datetime) -> int | None:
    """Count one more order made by the link if it is active, in time and not used up; the
    new count, or None when the link cannot make one. Of two openings racing for the last
    use exactly one gets it (a conditional ``UPDATE``)."""
    changed = await conn.execute(
        update(payment_links)
        .where(
            payment_links.c.id == link_id,
            payment_links.c.status == PaymentLinkStatus.ACTIVE,
            or_(payment_links.c.expires_at.is_(None), payment_links.c.expires_at > now),
            or_(
                payment_links.c.max_uses.is_(None),
                payment_links.c.uses < payment_links.c.max_uses,
            ),
        )
        .values(uses=payment_links.c.uses + 1, updated_at=now)
    )
    if changed.rowcount != 1:
        return None
    uses = (
        await conn.execute(select(payment_links.c.uses).where(payment_links.c.id == link_id))
    ).scalar_one()
    return int(uses)
