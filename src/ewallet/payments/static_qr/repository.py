"""SQL of static QR codes. Nothing here commits (the service's unit does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.money import Money
from ewallet.models.static_qr import StaticQrStatus, StoreStatus
from ewallet.models.tables import merchant_stores, static_qr_codes
from ewallet.payments.static_qr.views import StaticQrCodeView


@dataclass(frozen=True, slots=True)
class CodeRow:
    """A code with its store's name and status (None for the merchant's own code)."""

    code: StaticQrCodeView
    store_status: str | None

    @property
    def pays(self) -> bool:
        """Active, and its store (if any) too."""
        return self.code.status == StaticQrStatus.ACTIVE and self.store_status in (
            None,
            StoreStatus.ACTIVE,
        )


def _code_view(row: Row[Any]) -> StaticQrCodeView:
    fixed = None if row.fixed_amount is None else Money(row.fixed_amount, row.currency)
    return StaticQrCodeView(
        token=row.token,
        merchant_id=row.merchant_id,
        store_id=row.store_id,
        store_name=row.store_name,
        fixed_amount=fixed,
        status=row.status,
        created_at=row.created_at,
    )


def _with_store() -> Any:
    return select(
        static_qr_codes,
        merchant_stores.c.name.label("store_name"),
        merchant_stores.c.status.label("store_status"),
    ).select_from(
        static_qr_codes.outerjoin(
            merchant_stores, merchant_stores.c.id == static_qr_codes.c.store_id
        )
    )


async def code_of(
    conn: AsyncConnection, token: str, *, merchant_id: str | None = None
) -> CodeRow | None:
    """The code with ``token``; with ``merchant_id``, only if it is that merchant's."""
    statement = _with_store().where(static_qr_codes.c.token == token)
    if merchant_id is not None:
        statement = statement.where(static_qr_codes.c.merchant_id == merchant_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else CodeRow(_code_view(row), row.store_status)


async def active_codes_of(conn: AsyncConnection, merchant_id: str) -> list[StaticQrCodeView]:
    """The merchant's active codes: its own first, then its stores' (oldest store first)."""
    rows = await conn.execute(
        _with_store()
        .where(
            and_(
                static_qr_codes.c.merchant_id == merchant_id,
                static_qr_codes.c.status == StaticQrStatus.ACTIVE,
            )
        )
        .order_by(
            static_qr_codes.c.store_id.is_not(None),
            merchant_stores.c.created_at,
            static_qr_codes.c.created_at,
        )
    )
    return [_code_view(row) for row in rows]


async def insert_code(
    conn: AsyncConnection,
    *,
    token: str,
    merchant_id: str,
    store_id: str | None,
    store_name: str | None,
    fixed_amount: Money | None,
    currency: str,
    now: datetime,
) -> StaticQrCodeView:
    """A new active code for the merchant (``store_id`` None) or one of its stores; the
    partial unique index refuses a second active code for the same holder."""
    await conn.execute(
        insert(static_qr_codes).values(
            token=token,
            merchant_id=merchant_id,
            store_id=store_id,
            holder=store_id or merchant_id,
            fixed_amount=None if fixed_amount is None else fixed_amount.minor,
            currency=currency,
            status=StaticQrStatus.ACTIVE.value,
            created_at=now,
            retired_at=None,
        )
    )
    return StaticQrCodeView(
        token=token,
        merchant_id=merchant_id,
        store_id=store_id,
        store_name=store_name,
        fixed_amount=fixed_amount,
        status=StaticQrStatus.ACTIVE,
        created_at=now,
    )


async def retire_code(conn: AsyncConnection, *, token: str, now: datetime) -> bool:
    """Retire an active code (a conditional update: of two regenerations, one wins)."""
    result = await conn.execute(
        update(static_qr_codes)
        .where(
            static_qr_codes.c.token == token,
            static_qr_codes.c.status == StaticQrStatus.ACTIVE,
        )
        .values(status=StaticQrStatus.RETIRED.value, retired_at=now)
    )
    return result.rowcount == 1
