"""Binding a card: check the holder's details, text a code, trade the code for a token.

This is the bank's side of quick-pay binding (快捷支付签约): the bank, not the wallet,
proves that the person binding holds the phone on file, and answers with an agreement
token the wallet uses from then on instead of the card number. Starting again with the
same request id is answered from the first attempt (no second text); confirming again
with the right code returns the same token, so a wallet that lost an answer can retry.
"""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.phone import InvalidPhoneError, parse_phone
from ewallet.sandbox.bank.bank import SandboxBank
from ewallet.sandbox.bank.schemas import (
    BankRefusedError,
    BindConfirmed,
    BindConfirmRequest,
    BindRequest,
    BindStarted,
    UnbindRequest,
    Unbound,
)
from ewallet.sandbox.bank.storage import accounts, agreements, bindings

PENDING, CONFIRMED, DEAD = "pending", "confirmed", "dead"


async def start_binding(bank: SandboxBank, request: BindRequest) -> BindStarted:
    number = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", request.card_number))
    now = bank.clock.now()
    async with bank.store.writing() as connection:
        earlier = await _binding(connection, request.request_id)
        if earlier is not None:
            if earlier.card_number != number:
                raise BankRefusedError(
                    "request_id_reused", 409, "this request id started another card's binding"
                )
            left = max(0, int((earlier.expires_at - now).total_seconds()))
            return BindStarted(
                request_id=request.request_id,
                bank_phone_masked=await _masked_phone(connection, number),
                expires_in=left,
            )
        account = await _account(connection, number)
        if account is None:
            raise BankRefusedError(
                "card_not_found", 404, "this bank issued no card with that number"
            )
        mismatched = _mismatched_fields(account, request)
        if mismatched:
            raise BankRefusedError(
                "card_info_mismatch",
                422,
                "the holder's name, ID number or phone differs from the bank's records",
                fields=mismatched,
            )
        code = f"{secrets.randbelow(1_000_000):06d}"
        await connection.execute(
            insert(bindings).values(
                request_id=request.request_id,
                card_number=number,
                code=code,
                attempts_left=bank.config.code_max_attempts,
                expires_at=now + timedelta(seconds=bank.config.code_ttl_seconds),
                status=PENDING,
                created_at=now,
            )
        )
    minutes = max(1, bank.config.code_ttl_seconds // 60)
    body = (
        f"【{account.bank_name}】您正在绑定尾号{number[-4:]}的银行卡，验证码{code}，"
        f"{minutes}分钟内有效。如非本人操作请忽略。"
    )
    # After the commit: a text never announces a binding the bank then rolled back.
    await bank.text(
        phone=account.bank_phone,
        sender=account.bank_name,
        body=body,
        code=code,
        request_id=request.request_id,
    )
    return BindStarted(
        request_id=request.request_id,
        bank_phone_masked=_mask(account.bank_phone),
        expires_in=bank.config.code_ttl_seconds,
    )


async def confirm_binding(bank: SandboxBank, request: BindConfirmRequest) -> BindConfirmed:
    now = bank.clock.now()
    async with bank.store.writing() as connection:
        binding = await _binding(connection, request.request_id, for_update=True)
        if binding is None:
            raise BankRefusedError("binding_not_found", 404, "no binding was started with this id")
        right = hmac.compare_digest(binding.code.encode(), request.code.encode())
        if binding.status == CONFIRMED:
            if not right:
                raise BankRefusedError("binding_closed", 409, "this binding is already confirmed")
            return await _confirmed(connection, binding.card_number, binding.agreement_token)
        if binding.status == DEAD:
            raise BankRefusedError("too_many_attempts", 429, "too many wrong codes; start again")
        if now >= binding.expires_at:
            raise BankRefusedError("bind_code_expired", 400, "the code has expired; start again")
        if right:
            token = "agr_" + secrets.token_urlsafe(24)
            await connection.execute(
                insert(agreements).values(
                    token=token, card_number=binding.card_number, status="active", created_at=now
                )
            )
            await connection.execute(
                update(bindings)
                .where(bindings.c.request_id == request.request_id)
                .values(status=CONFIRMED, agreement_token=token)
            )
            return await _confirmed(connection, binding.card_number, token)
        left = int(binding.attempts_left) - 1
        await connection.execute(
            update(bindings)
            .where(bindings.c.request_id == request.request_id)
            .values(attempts_left=left, status=DEAD if left <= 0 else PENDING)
        )
    # The wrong entry was counted and committed above; only now is it refused.
    if left <= 0:
        raise BankRefusedError("too_many_attempts", 429, "too many wrong codes; start again")
    raise BankRefusedError("bind_code_invalid", 400, "wrong code", remaining_attempts=left)


async def unbind(bank: SandboxBank, request: UnbindRequest) -> Unbound:
    """Revoke an agreement; revoking a revoked one answers the same (idempotent)."""
    async with bank.store.writing() as connection:
        status = await connection.scalar(
            select(agreements.c.status).where(agreements.c.token == request.agreement_token)
        )
        if status is None:
            raise BankRefusedError("agreement_not_found", 404, "no agreement with this token")
        if status == "active":
            await connection.execute(
                update(agreements)
                .where(agreements.c.token == request.agreement_token)
                .values(status="revoked", revoked_at=bank.clock.now())
            )
    return Unbound(agreement_token=request.agreement_token)


async def _binding(
    connection: AsyncConnection, request_id: str, *, for_update: bool = False
) -> Any:
    statement = select(bindings).where(bindings.c.request_id == request_id)
    if for_update:
        statement = statement.with_for_update()
    return (await connection.execute(statement)).first()


async def _account(connection: AsyncConnection, number: str) -> Any:
    statement = select(accounts).where(accounts.c.card_number == number)
    return (await connection.execute(statement)).first()


async def _masked_phone(connection: AsyncConnection, number: str) -> str:
    account = await _account(connection, number)
    return _mask(account.bank_phone) if account is not None else ""


async def _confirmed(connection: AsyncConnection, number: str, token: str) -> BindConfirmed:
    account = await _account(connection, number)
    return BindConfirmed(
        agreement_token=token,
        bank_code=account.bank_code,
        bank_name=account.bank_name,
        card_type=account.card_type,
        card_last4=number[-4:],
    )


def _mismatched_fields(account: Any, request: BindRequest) -> list[str]:
    """Which of the caller's details differ from the bank's (the sandbox says, to help)."""
    mismatched = []
    if _name(request.holder_name) != _name(account.holder_name):
        mismatched.append("holder_name")
    if request.id_number.strip().upper() != account.id_number.upper():
        mismatched.append("id_number")
    try:
        phone = parse_phone(request.bank_phone)
    except InvalidPhoneError:
        phone = None
    if phone != account.bank_phone:
        mismatched.append("bank_phone")
    return mismatched


def _name(raw: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", raw).split())


def _mask(e164: str) -> str:
    local = e164.removeprefix("+86")
    return f"{local[:3]}****{local[-4:]}"
