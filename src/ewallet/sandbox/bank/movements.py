"""Debits and credits under an agreement, their query, and the daily settlement file.

Idempotent by the caller's request id: an id the bank has seen is answered from its record
(same status, same reference, no second movement, no behaviour replayed); the same id with
another body is refused. Declines are recorded too, so a query can tell "declined" from
"never arrived" (``not_found``: a timed-out operation commits nothing). The balance moves
in one conditional UPDATE in the same transaction as the record, so two debits racing for
the last yuan cannot both succeed.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ewallet.sandbox.bank.bank import BANK_TIMEZONE, SandboxBank
from ewallet.sandbox.bank.cards import (
    DECLINE_REASON,
    INSUFFICIENT_FUNDS_REASON,
    Behaviour,
    behaviour_for,
)
from ewallet.sandbox.bank.schemas import (
    BankRefusedError,
    MovementAnswer,
    MovementRequest,
    OperationAnswer,
)
from ewallet.sandbox.bank.storage import accounts, agreements, operations

Kind = Literal["debit", "credit"]  # payouts: sandbox/bank/payouts.py
AfterCommit = Literal["error", "drop"] | None
SETTLEMENT_COLUMNS = (
    "request_id",
    "type",
    "amount_fen",
    "status",
    "bank_reference",
    "occurred_at",
)


@dataclass(frozen=True, slots=True)
class Movement:
    """The bank's answer, and how the answer fails to arrive after the commit, if it does."""

    answer: MovementAnswer
    after_commit: AfterCommit = None


async def move(bank: SandboxBank, kind: Kind, request: MovementRequest) -> Movement:
    earlier = await _operation(bank, request.request_id)
    if earlier is not None:
        return Movement(_replayed(earlier, kind, request))
    async with bank.store.reading() as connection:
        agreement = (
            await connection.execute(
                select(agreements.c.status, accounts.c.card_number, accounts.c.behaviour)
                .join(accounts, accounts.c.card_number == agreements.c.card_number)
                .where(agreements.c.token == request.agreement_token)
            )
        ).first()
    if agreement is None or agreement.status != "active":
        reason = "agreement_not_found" if agreement is None else "agreement_revoked"
        card = None if agreement is None else agreement.card_number
        answer = await _record(bank, kind, request, card=card, declined=reason)
        return Movement(answer)
    behaviour = behaviour_for(Behaviour(agreement.behaviour), request.amount_fen)
    if behaviour is Behaviour.TIMEOUT:
        # Nothing is written: the client gave up long before this answer, and a query
        # will say not_found.
        await asyncio.sleep(bank.config.timeout_delay_seconds)
        raise BankRefusedError("processing_timeout", 504, "processing timed out; nothing was done")
    if behaviour is Behaviour.SLOW:
        await asyncio.sleep(bank.config.slow_delay_seconds)
    declined = None
    if behaviour is Behaviour.DECLINE:
        declined = DECLINE_REASON
    elif behaviour is Behaviour.INSUFFICIENT_FUNDS and kind == "debit":
        declined = INSUFFICIENT_FUNDS_REASON
    answer = await _record(bank, kind, request, card=agreement.card_number, declined=declined)
    if behaviour is Behaviour.ERROR_AFTER_COMMIT:
        return Movement(answer, after_commit="error")
    if behaviour is Behaviour.DROP_AFTER_COMMIT:
        return Movement(answer, after_commit="drop")
    return Movement(answer)


async def operation_status(bank: SandboxBank, request_id: str) -> OperationAnswer:
    row = await _operation(bank, request_id)
    if row is None:
        return OperationAnswer(request_id=request_id, status="not_found")
    return OperationAnswer(
        request_id=request_id,
        status=row.status,
        type=row.kind,
        amount_fen=int(row.amount_fen),
        bank_reference=row.bank_reference,
        reason=row.reason,
        occurred_at=row.occurred_at.astimezone(BANK_TIMEZONE),
    )


async def settlement_csv(bank: SandboxBank, day: date) -> str:
    """The succeeded operations of the bank's business ``day`` (Beijing time), as CSV."""
    start = datetime.combine(day, time(0), tzinfo=BANK_TIMEZONE)
    async with bank.store.reading() as connection:
        rows = (
            await connection.execute(
                select(operations)
                .where(
                    operations.c.status == "succeeded",
                    operations.c.occurred_at >= start,
                    operations.c.occurred_at < start + timedelta(days=1),
                )
                .order_by(operations.c.occurred_at, operations.c.id)
            )
        ).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SETTLEMENT_COLUMNS)
    for row in rows:
        occurred = row.occurred_at.astimezone(BANK_TIMEZONE).isoformat()
        writer.writerow(
            (row.request_id, row.kind, row.amount_fen, row.status, row.bank_reference, occurred)
        )
    return buffer.getvalue()


def bank_reference(request_id: str) -> str:
    """The bank's reference of an operation: derived from its request id, so deterministic."""
    digest = hashlib.sha256(request_id.encode()).hexdigest()[:20].upper()
    return f"SB{digest}"


async def _record(
    bank: SandboxBank,
    kind: Kind,
    request: MovementRequest,
    *,
    card: str | None,
    declined: str | None,
) -> MovementAnswer:
    """Move the money (unless declined) and keep the record, in one transaction."""
    try:
        async with bank.store.writing() as connection:
            if declined is None and card is not None:
                balance = accounts.c.balance_fen
                statement = update(accounts).where(accounts.c.card_number == card)
                if kind == "debit":
                    statement = statement.where(balance >= request.amount_fen).values(
                        balance_fen=balance - request.amount_fen
                    )
                else:
                    statement = statement.values(balance_fen=balance + request.amount_fen)
                moved = await connection.execute(statement)
                if moved.rowcount == 0:
                    declined = INSUFFICIENT_FUNDS_REASON
            answer = MovementAnswer(
                request_id=request.request_id,
                status="succeeded" if declined is None else "declined",
                bank_reference=bank_reference(request.request_id),
                reason=declined,
            )
            await connection.execute(
                insert(operations).values(
                    request_id=request.request_id,
                    kind=kind,
                    agreement_token=request.agreement_token,
                    card_number=card,
                    amount_fen=request.amount_fen,
                    status=answer.status,
                    reason=answer.reason,
                    bank_reference=answer.bank_reference,
                    occurred_at=bank.clock.now(),
                )
            )
    except IntegrityError:
        # The same request id committed first on another connection: answer as it did.
        earlier = await _operation(bank, request.request_id)
        if earlier is None:
            raise
        return _replayed(earlier, kind, request)
    return answer


async def _operation(bank: SandboxBank, request_id: str) -> Any:
    async with bank.store.reading() as connection:
        statement = select(operations).where(operations.c.request_id == request_id)
        return (await connection.execute(statement)).first()


def _replayed(row: Any, kind: Kind, request: MovementRequest) -> MovementAnswer:
    same = (row.kind, row.agreement_token, int(row.amount_fen)) == (
        kind,
        request.agreement_token,
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
