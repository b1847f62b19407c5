"""Reading the sandbox bank's books from settlement tests."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from ewallet.sandbox.bank import SandboxCard, sandbox_bank_of
from ewallet.sandbox.bank.storage import balance_of, operations


async def bank_balance(app: FastAPI | None, card: SandboxCard) -> int:
    assert app is not None
    async with sandbox_bank_of(app.state.sandbox_bank).store.reading() as connection:
        value = await balance_of(connection, card.number)
    assert value is not None
    return value


async def payouts_at_bank(app: FastAPI | None) -> list[Any]:
    """Every payout the bank recorded (succeeded or declined), oldest first."""
    assert app is not None
    async with sandbox_bank_of(app.state.sandbox_bank).store.reading() as connection:
        statement = (
            select(operations).where(operations.c.kind == "payout").order_by(operations.c.id)
        )
        return list(await connection.execute(statement))
