"""Rows the operations-health tests write directly: cards, top-ups and withdrawals in any
state, and outbox events as a relay would leave them (shared with tests/console)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.ids import new_id
from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import cards, topups, withdrawals

CODE = "482913"
SMS_PAYLOAD: dict[str, Any] = {
    "to": "+8613812345678",
    "sender": "ewallet",
    "body": f"您的验证码是{CODE}，5分钟内有效。",
    "kind": "verification",
    "code": CODE,
}
SMS_ERROR = f"send_sms: ProviderError: gateway refused +86 138 1234 5678 (code {CODE})"


async def insert_card(engine: AsyncEngine, user_id: str, *, now: datetime) -> str:
    card_id = new_id("card")
    async with engine.begin() as conn:
        await conn.execute(
            insert(cards).values(
                id=card_id,
                user_id=user_id,
                status="active",
                bank_code="ICBC",
                bank_name="中国工商银行",
                card_type="debit",
                bin="622202",
                last_four="4321",
                fingerprint=f"fp-{card_id}",
                holder_name_masked="张*",
                bank_phone_masked="138****5678",
                binding_request_id=f"bind:{card_id}",
                agreement_token_encrypted=None,
                created_at=now,
                verified_at=now,
                unbound_at=None,
            )
        )
    return card_id


async def insert_topup(
    engine: AsyncEngine,
    user_id: str,
    *,
    method: str,
    status: str,
    amount: int,
    created_at: datetime,
    card_id: str | None = None,
) -> str:
    topup_id = new_id("tu")
    async with engine.begin() as conn:
        await conn.execute(
            insert(topups).values(
                id=topup_id,
                user_id=user_id,
                method=method,
                card_id=card_id,
                amount=amount,
                currency="CNY",
                status=status,
                created_at=created_at,
                updated_at=created_at,
            )
        )
    return topup_id


async def insert_withdrawal(
    engine: AsyncEngine,
    user_id: str,
    card_id: str,
    *,
    status: str,
    amount: int,
    created_at: datetime,
) -> str:
    withdrawal_id = new_id("wd")
    async with engine.begin() as conn:
        await conn.execute(
            insert(withdrawals).values(
                id=withdrawal_id,
                user_id=user_id,
                card_id=card_id,
                amount=amount,
                fee=100,
                currency="CNY",
                status=status,
                created_at=created_at,
                updated_at=created_at,
            )
        )
    return withdrawal_id


async def insert_event(
    engine: AsyncEngine,
    topic: str,
    *,
    now: datetime,
    status: str = "pending",
    attempts: int = 0,
    available_at: datetime | None = None,
    claimed_by: str | None = None,
    last_error: str | None = None,
    payload: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            insert(OutboxEvent)
            .values(
                topic=topic,
                payload=payload or {},
                status=status,
                attempts=attempts,
                available_at=available_at or now,
                claimed_by=claimed_by,
                last_error=last_error,
                created_at=created_at or now,
                delivered_at=now if status == "delivered" else None,
            )
            .returning(OutboxEvent.id)
        )
        return int(result.scalar_one())


async def event_row(engine: AsyncEngine, event_id: int) -> Any:
    async with engine.connect() as conn:
        query = select(OutboxEvent.__table__).where(OutboxEvent.id == event_id)
        return (await conn.execute(query)).one()
