"""All SQL of transfers: the parties' rows, the ``transfers`` rows and their reads, and
each user's transfer settings.

Functions take the caller's unit of work (or its connection) and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone
from ewallet.models.identity import User
from ewallet.models.tables import risk_reviews, transfer_settings, transfers, users
from ewallet.models.transfers import Arrival, TransferStatus
from ewallet.transfers.views import Party, TransferView


async def user_by_id(session: AsyncSession, user_id: str, *, fresh: bool = False) -> User | None:
    """The user's row, read without a lock; ``fresh`` re-reads one this session has seen."""
    return await session.get(User, user_id, populate_existing=fresh)


async def user_by_phone(session: AsyncSession, phone: str) -> User | None:
    """The account of ``phone`` (E.164), closed ones included (they keep their number)."""
    return (await session.scalars(select(User).where(User.phone == phone))).first()


async def has_sent_to(conn: AsyncConnection, *, payer_id: str, payee_id: str) -> bool:
    """Whether ``payer_id`` ever transferred to ``payee_id``."""
    statement = (
        select(transfers.c.id)
        .where(transfers.c.payer_user_id == payer_id, transfers.c.payee_user_id == payee_id)
        .limit(1)
    )
    return (await conn.execute(statement)).first() is not None


async def insert_transfer(
    conn: AsyncConnection,
    *,
    transfer_id: str,
    payer_id: str,
    payee_id: str,
    amount: Money,
    memo: str | None,
    ledger_transaction_id: str | None,
    request_digest: str | None,
    now: datetime,
    status: TransferStatus = TransferStatus.SUCCEEDED,
    hold_id: str | None = None,
    review_id: str | None = None,
    arrival: Arrival = Arrival.REALTIME,
    arrives_at: datetime | None = None,
) -> None:
    """Write a transfer that posted (``succeeded`` with its ledger transaction), waits on
    its review hold (``under_review`` with ``hold_id`` and ``review_id``) or on its
    arrival (``scheduled`` with ``hold_id`` and ``arrives_at``); a second one with the
    payer's request key is refused by the unique index (``IntegrityError``)."""
    await conn.execute(
        insert(transfers).values(
            id=transfer_id,
            payer_user_id=payer_id,
            payee_user_id=payee_id,
            amount=amount.minor,
            currency=amount.currency,
            memo=memo,
            status=status.value,
            ledger_transaction_id=ledger_transaction_id,
            hold_id=hold_id,
            review_id=review_id,
            request_key=request_digest,
            created_at=now,
            arrival=arrival.value,
            arrives_at=arrives_at,
        )
    )


async def finish_held(
    conn: AsyncConnection,
    *,
    transfer_id: str,
    status: TransferStatus,
    ledger_transaction_id: str | None,
) -> bool:
    """Move a transfer held for review to ``succeeded`` (with its ledger transaction) or
    ``rejected``; False, changing nothing, if it is not under review."""
    statement = (
        update(transfers)
        .where(
            transfers.c.id == transfer_id,
            transfers.c.status == TransferStatus.UNDER_REVIEW.value,
        )
        .values(status=status.value, ledger_transaction_id=ledger_transaction_id)
    )
    return (await conn.execute(statement)).rowcount == 1


async def finish_scheduled(
    conn: AsyncConnection,
    *,
    transfer_id: str,
    status: TransferStatus,
    ledger_transaction_id: str | None,
    now: datetime,
) -> bool:
    """Move a scheduled transfer to ``succeeded`` (with its ledger transaction),
    ``cancelled`` or ``returned``; False, changing nothing, if it is no longer scheduled --
    the conditional ``UPDATE`` that lets exactly one of a cancel and an arrival win."""
    statement = (
        update(transfers)
        .where(
            transfers.c.id == transfer_id,
            transfers.c.status == TransferStatus.SCHEDULED.value,
        )
        .values(status=status.value, ledger_transaction_id=ledger_transaction_id, finished_at=now)
    )
    return (await conn.execute(statement)).rowcount == 1


async def schedule_reviewed(conn: AsyncConnection, *, transfer_id: str) -> bool:
    """A delayed transfer approved by its review before its arrival time: ``scheduled``
    again on the same hold; False if it is not under review."""
    statement = (
        update(transfers)
        .where(
            transfers.c.id == transfer_id,
            transfers.c.status == TransferStatus.UNDER_REVIEW.value,
        )
        .values(status=TransferStatus.SCHEDULED.value)
    )
    return (await conn.execute(statement)).rowcount == 1


async def default_arrival(conn: AsyncConnection, *, user_id: str) -> Arrival:
    """The user's default arrival option (``realtime`` when they never chose one)."""
    statement = select(transfer_settings.c.default_arrival).where(
        transfer_settings.c.user_id == user_id
    )
    found = (await conn.execute(statement)).scalar()
    return Arrival(found) if found is not None else Arrival.REALTIME


async def save_default_arrival(
    conn: AsyncConnection, *, user_id: str, arrival: Arrival, now: datetime
) -> None:
    """Store the user's default arrival option (one row per user, overwritten)."""
    changed = await conn.execute(
        update(transfer_settings)
        .where(transfer_settings.c.user_id == user_id)
        .values(default_arrival=arrival.value, updated_at=now)
    )
    if changed.rowcount == 0:
        await conn.execute(
            insert(transfer_settings).values(
                user_id=user_id, default_arrival=arrival.value, updated_at=now
            )
        )


async def transfer_id_for_request(
    conn: AsyncConnection, *, payer_id: str, request_digest: str
) -> str | None:
    """The transfer ``payer_id`` made with this request key, if any."""
    statement = select(transfers.c.id).where(
        transfers.c.payer_user_id == payer_id, transfers.c.request_key == request_digest
    )
    found: str | None = (await conn.execute(statement)).scalar()
    return found


async def load_transfers(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, TransferView]:
    """Transfers by id with both parties (masked); ids that name no transfer are left out."""
    if not ids:
        return {}
    payer = users.alias("payer")
    payee = users.alias("payee")
    statement = (
        select(
            transfers,
            payer.c.phone.label("payer_phone"),
            payer.c.real_name_masked.label("payer_name"),
            payee.c.phone.label("payee_phone"),
            payee.c.real_name_masked.label("payee_name"),
            risk_reviews.c.due_at.label("review_due_at"),
        )
        .join(payer, payer.c.id == transfers.c.payer_user_id)
        .join(payee, payee.c.id == transfers.c.payee_user_id)
        .outerjoin(risk_reviews, risk_reviews.c.id == transfers.c.review_id)
        .where(transfers.c.id.in_(list(ids)))
    )
    return {
        row.id: TransferView(
            id=row.id,
            payer=Party(row.payer_user_id, mask_phone(row.payer_phone), row.payer_name),
            payee=Party(row.payee_user_id, mask_phone(row.payee_phone), row.payee_name),
            amount=Money(row.amount, row.currency),
            memo=row.memo,
            status=row.status,
            ledger_transaction_id=row.ledger_transaction_id,
            created_at=row.created_at,
            review_due_at=as_utc(row.review_due_at) if row.review_due_at else None,
            review_id=row.review_id,
            arrival=row.arrival,
            arrives_at=as_utc(row.arrives_at) if row.arrives_at else None,
            hold_id=row.hold_id,
            finished_at=as_utc(row.finished_at) if row.finished_at else None,
        )
        for row in (await conn.execute(statement)).all()
    }
