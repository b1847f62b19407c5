"""Payouts to an account number with a name check: how the wallet settles with merchants.

Unlike a credit, a payout names no agreement: the wallet sends the account (card) number
and the holder's name it registered, and the bank pays only if the name is the account
holder's (``name_mismatch`` otherwise; ``account_not_found`` for a number it does not
keep). The account's behaviour (or the amount's fen part on approving accounts) drives
the answer exactly as for a credit: ``timeout`` commits nothing, ``slow`` answers late,
``decline`` refuses, ``error_after_commit``/``drop_after_commit`` pay and lose the answer.
Idempotent by request id like every movement: the same id is answered from the record,
the same id with another body is refused.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ewallet.sandbox.bank.bank import SandboxBank
from ewallet.sandbox.bank.cards import DECLINE_REASON, Behaviour, behaviour_for
from ewallet.sandbox.bank.movements import Movement, bank_reference
from ewallet.sandbox.bank.schemas import (
    BankRefusedError,
    MovementAnswer,
    NameCheckAnswer,
    NameCheckRequest,
    PayoutRequest,
)
from ewallet.sandbox.bank.storage import accounts, operations

KIND: Final = "payout"
NAME_MISMATCH: Final = "name_mismatch"
ACCOUNT_NOT_FOUND: Final = "account_not_found"
# A payout carries no agreement; the record's agreement column says so.
NO_AGREEMENT: Final = ""


async def pay_out(bank: SandboxBank, request: PayoutRequest) -> Movement:
    earlier = await _operation(bank, request.request_id)
    if earlier is not None:
        return Movement(_replayed(earlier, request))
    async with bank.store.reading() as connection:
        account = (
            await connection.execute(
                select(accounts.c.holder_name, accounts.c.behaviour).where(
                    accounts.c.card_number == request.account_number
                )
            )
        ).first()
    if account is None:
        return Movement(await _record(bank, request, declined=ACCOUNT_NOT_FOUND))
    if _name(account.holder_name) != _name(request.holder_name):
        return Movement(await _record(bank, request, declined=NAME_MISMATCH))
    behaviour = behaviour_for(Behaviour(account.behaviour), request.amount_fen)
    if behaviour is Behaviour.TIMEOUT:
        await asyncio.sleep(bank.config.timeout_delay_seconds)
        raise BankRefusedError("processing_timeout", 504, "processing timed out; nothing was done")
    if behaviour is Behaviour.SLOW:
        await asyncio.sleep(bank.config.slow_delay_seconds)
    declined = DECLINE_REASON if behaviour is Behaviour.DECLINE else None
    answer = await _record(bank, request, declined=declined)
    if behaviour is Behaviour.ERROR_AFTER_COMMIT:
        return Movement(answer, after_commit="error")
    if behaviour is Behaviour.DROP_AFTER_COMMIT:
        return Movement(answer, after_commit="drop")
    return Movement(answer)


async def check_name(bank: SandboxBank, request: NameCheckRequest) -> NameCheckAnswer:
    """The check a payout makes, without paying: whether the name is the account holder's
    (a transfer to someone's card asks before it holds the money)."""
    async with bank.store.reading() as connection:
        holder = (
            await connection.execute(
                select(accounts.c.holder_name).where(
                    accounts.c.card_number == request.account_number
                )
            )
        ).scalar()
    if holder is None:
        return NameCheckAnswer(matches=False, reason=ACCOUNT_NOT_FOUND)
    if _name(holder) != _name(request.holder_name):
        return NameCheckAnswer(matches=False, reason=NAME_MISMATCH)
    return NameCheckAnswer(matches=True)


def _name(name: str) -> str:
    return "".join(name.split()).casefold()


async def _record(
    bank: SandboxBank, request: PayoutRequest, *, declined: str | None
) -> MovementAnswer:
    try:
        async with bank.store.writing() as connection:
            if declined is None:
                await connection.execute(
                    update(accounts)
                    .where(accounts.c.card_number == request.account_number)
                    .values(balance_fen=accounts.c.balance_fen + request.amount_fen)
                )
            answer = MovementAnswer(
                request_id=request.request_id,
                status="succeeded" if declined is None else "declined",
                bank_reference=bank_reference(request.request_id),
                reason=declined,
            )
            await connection.execute(
                insert(operations).values(
                    request_id=request.request_id,
                    kind=KIND,
                    agreement_token=NO_AGREEMENT,
                    card_number=request.account_number,
                    amount_fen=request.amount_fen,
                    status=answer.status,
                    reason=answer.reason,
                    bank_reference=answer.bank_reference,
                    occurred_at=bank.clock.now(),
                )
            )
    except IntegrityError:
        earlier = await _operation(bank, request.request_id)
        if earlier is None:
            raise
        return _replayed(earlier, request)
    return answer


async def _operation(bank: SandboxBank, request_id: str) -> Any:
    async with bank.store.reading() as connection:
        statement = select(operations).where(operations.c.request_id == request_id)
        return (await connection.execute(statement)).first()


def _replayed(row: Any, request: PayoutRequest) -> MovementAnswer:
    same = (row.kind, row.card_number, int(row.amount_fen)) == (
        KIND,
        request.account_number,
        request.amount_fen,
    )
    if not same:
        raise BankRefusedError(
            "request_id_reused", 409, "this request id was used for a different operation"
        )
    return MovementAnswer(
        request_id=row.request_id,
        status=row.status,
        bank_reference=row.bank_reference,
        reason=row.reason,
    )
