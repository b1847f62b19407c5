"""Binding a test card through the gateway, and reading the bank's own books."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from ewallet.integrations.bank.port import BankGateway
from ewallet.kit.ids import new_id
from ewallet.sandbox.bank import TEST_CARDS, Behaviour, SandboxCard, sandbox_bank_of
from ewallet.sandbox.bank.storage import balance_of, operations


async def latest_code(bank_app: FastAPI, card: SandboxCard) -> str:
    """The code in the newest text the bank sent to the card's phone."""
    texts = await sandbox_bank_of(bank_app).sent_sms(phone="+86" + card.bank_phone)
    code = texts[-1].code
    assert code is not None
    return code


async def bind(gateway: BankGateway, bank_app: FastAPI, card: SandboxCard) -> str:
    """Bind ``card`` with its holder's right details; the agreement token."""
    request_id = new_id("bind")
    await gateway.start_binding(
        card_number=card.number,
        holder_name=card.holder_name,
        id_number=card.id_number,
        bank_phone=card.bank_phone,
        request_id=request_id,
    )
    bound = await gateway.confirm_binding(
        request_id=request_id, code=await latest_code(bank_app, card)
    )
    return bound.agreement_token


async def balance(bank_app: FastAPI, card: SandboxCard) -> int:
    async with sandbox_bank_of(bank_app).store.reading() as connection:
        value = await balance_of(connection, card.number)
    assert value is not None
    return value


async def operation_count(bank_app: FastAPI) -> int:
    async with sandbox_bank_of(bank_app).store.reading() as connection:
        return int(await connection.scalar(select(func.count()).select_from(operations)) or 0)


def card_of(bank_code: str) -> SandboxCard:
    """The test card of ``bank_code`` (one per bank)."""
    (found,) = [card for card in TEST_CARDS if card.bank_code == bank_code]
    return found


def card_behaving(behaviour: Behaviour) -> SandboxCard:
    """The test card whose every operation behaves as ``behaviour`` (not ``approve``)."""
    (found,) = [card for card in TEST_CARDS if card.behaviour is behaviour]
    return found
