"""All SQL of card transfers: the ``card_transfers`` rows, and whether a number is one of
the payer's own bound cards (``cards``, by keyed fingerprint); never commits.

A transfer's full card number is kept encrypted only while the bank may still be asked
with it: the ``UPDATE`` that makes a transfer final (:func:`move`) erases it in the same
statement, writing :data:`NUMBER_ERASED` (the column is ``NOT NULL``; an empty ciphertext
can never be a real one, and the view reads it as None)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.funding.withdrawals.card_transfers.views import CardTransferView
from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.models.card_transfers import CardTransferStatus
from ewallet.models.funding import CardStatus
from ewallet.models.tables import card_transfers, cards

# Statuses whose amounts count against the withdrawals' free quota (the money left, or may).
QUOTA_STATUSES = (
    CardTransferStatus.SCHEDULED,
    CardTransferStatus.PROCESSING,
    CardTransferStatus.PENDING,
    CardTransferStatus.SUCCEEDED,
)
OPEN_STATUSES = (CardTransferStatus.PROCESSING, CardTransferStatus.PENDING)
FINAL_STATUSES = (
    CardTransferStatus.SUCCEEDED,
    CardTransferStatus.FAILED,
    CardTransferStatus.CANCELLED,
)
# What ``card_number_encrypted`` holds once the transfer is final (module doc).
NUMBER_ERASED: Final = ""


def _view(row: Any) -> CardTransferView:
    return CardTransferView(
        id=row.id,
        user_id=row.user_id,
        payee_name=row.payee_name,
        card_last_four=row.card_last_four,
        bank_code=row.bank_code,
        bank_name=row.bank_name,
        amount=Money(row.amount, row.currency),
        fee=Money(row.fee, row.currency),
        status=row.status,
        arrival=row.arrival,
        arrives_at=as_utc(row.arrives_at) if row.arrives_at else None,
        hold_id=row.hold_id,
        fee_hold_id=row.fee_hold_id,
        failure_reason=row.failure_reason,
        created_at=as_utc(row.created_at),
        sent_at=as_utc(row.sent_at) if row.sent_at else None,
        card_number_encrypted=row.card_number_encrypted or None,
    )


async def quota_used(conn: AsyncConnection, *, user_id: str, currency: str) -> int:
    """The lifetime sum of the user's card transfers that count against the free quota."""
    total = await conn.scalar(
        select(func.coalesce(func.sum(card_transfers.c.amount), 0)).where(
            card_transfers.c.user_id == user_id,
            card_transfers.c.currency == currency,
            card_transfers.c.status.in_(QUOTA_STATUSES),
        )
    )
    return int(total or 0)


async def is_own_active_card(conn: AsyncConnection, *, user_id: str, fingerprint: str) -> bool:
    """Whether the user has an active bound card with this keyed fingerprint
    (:func:`ewallet.security.card_fingerprint.card_fingerprint`)."""
    statement = select(
        exists().where(
            cards.c.user_id == user_id,
            cards.c.fingerprint == fingerprint,
            cards.c.status == CardStatus.ACTIVE,
        )
    )
    return bool(await conn.scalar(statement))


async def insert_card_transfer(conn: AsyncConnection, **values: Any) -> None:
    """A new card transfer (an ``IntegrityError`` if its request key was used)."""
    await conn.execute(insert(card_transfers).values(**values))


async def set_holds(
    conn: AsyncConnection, transfer_id: str, *, hold_id: str, fee_hold_id: str | None
) -> None:
    await conn.execute(
        update(card_transfers)
        .where(card_transfers.c.id == transfer_id)
        .values(hold_id=hold_id, fee_hold_id=fee_hold_id)
    )


async def load(
    conn: AsyncConnection, transfer_id: str, *, user_id: str | None = None
) -> CardTransferView | None:
    statement = select(card_transfers).where(card_transfers.c.id == transfer_id)
    if user_id is not None:
        statement = statement.where(card_transfers.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else _view(row)


async def id_for_request(conn: AsyncConnection, *, user_id: str, request_key: str) -> str | None:
    statement = select(card_transfers.c.id).where(
        card_transfers.c.user_id == user_id, card_transfers.c.request_key == request_key
    )
    found: str | None = (await conn.execute(statement)).scalar()
    return found


async def move(
    conn: AsyncConnection,
    transfer_id: str,
    *,
    from_statuses: tuple[CardTransferStatus, ...],
    to: CardTransferStatus,
    now: datetime,
    **values: Any,
) -> CardTransferView | None:
    """Move the transfer from one of ``from_statuses`` to ``to`` with a conditional
    ``UPDATE``: the row as it is after, or None (nothing changed) if it was in none of them
    -- how exactly one of two racing finishers wins. A final state erases the card number
    in the same statement (module doc)."""
    final = to in FINAL_STATUSES
    statement = (
        update(card_transfers)
        .where(
            card_transfers.c.id == transfer_id,
            card_transfers.c.status.in_([status.value for status in from_statuses]),
        )
        .values(
            status=to.value,
            updated_at=now,
            **({"finished_at": now, "card_number_encrypted": NUMBER_ERASED} if final else {}),
            **values,
        )
    )
    if (await conn.execute(statement)).rowcount != 1:
        return None
    return await load(conn, transfer_id)


async def unsettled(
    conn: AsyncConnection, *, stale_before: datetime, limit: int
) -> list[CardTransferView]:
    """Open transfers whose bank answer never came: ``pending`` ones, and ``processing``
    ones untouched since ``stale_before`` (the process stopped mid-call)."""
    statement = (
        select(card_transfers)
        .where(
            (card_transfers.c.status == CardTransferStatus.PENDING.value)
            | (
                (card_transfers.c.status == CardTransferStatus.PROCESSING.value)
                & (card_transfers.c.updated_at < stale_before)
            )
        )
        .order_by(card_transfers.c.updated_at)
        .limit(limit)
    )
    return [_view(row) for row in (await conn.execute(statement)).all()]
