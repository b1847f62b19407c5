"""Every statement on ``counter_deposits`` and ``large_cash_records``.

Functions take the unit's connection (or the unit, for the ORM user) and return
:mod:`ewallet.counter.views` values. Deciding a deposit is a conditional ``UPDATE`` out of
``awaiting_approval`` (:func:`claim_decision`): of two supervisors deciding at once, one wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.counter.views import DepositView, LargeCashView
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.models.counter import DepositStatus
from ewallet.models.identity import User
from ewallet.models.tables import counter_deposits as deposits
from ewallet.models.tables import large_cash_records as large_cash
from ewallet.models.tables import staff

teller = staff.alias("teller")
decider = staff.alias("decider")


def _deposits() -> Select[Any]:
    """Deposits with the names of their teller and deciding supervisor (display name,
    else email), as :class:`DepositView` reads them."""
    return (
        select(
            deposits,
            func.coalesce(teller.c.display_name, teller.c.email).label("teller_name"),
            func.coalesce(decider.c.display_name, decider.c.email).label("decider_name"),
        )
        .outerjoin(teller, teller.c.id == deposits.c.teller_id)
        .outerjoin(decider, decider.c.id == deposits.c.decided_by)
    )


async def deposit_by_receipt(
    conn: AsyncConnection, *, branch: str, receipt_no: str
) -> DepositView | None:
    """The deposit of the branch's paper receipt ``receipt_no``, if it was recorded."""
    query = _deposits().where(deposits.c.branch == branch, deposits.c.receipt_no == receipt_no)
    row = (await conn.execute(query)).first()
    return None if row is None else DepositView.of(row)


async def load_deposit(conn: AsyncConnection, deposit_id: str) -> DepositView | None:
    row = (await conn.execute(_deposits().where(deposits.c.id == deposit_id))).first()
    return None if row is None else DepositView.of(row)


async def customer_id_by_phone(conn: AsyncConnection, phone: str) -> str | None:
    """The id of the user whose phone number is ``phone`` (E.164)."""
    user_id = await conn.scalar(select(User.id).where(User.phone == phone))
    return None if user_id is None else str(user_id)


async def customer(uow: UnitOfWork, user_id: str) -> User:
    """The customer's row (it exists: found by phone, or a deposit's foreign key)."""
    user = await uow.session.get(User, user_id)
    assert user is not None
    return user


async def insert_deposit(
    conn: AsyncConnection,
    *,
    deposit_id: str,
    branch: str,
    receipt_no: str,
    user_id: str,
    phone: str,
    amount: Money,
    status: DepositStatus,
    teller_id: str,
    now: datetime,
) -> None:
    """A new deposit; decided now unless it waits for approval (an ``IntegrityError`` if
    the branch's receipt was recorded concurrently)."""
    awaiting = status is DepositStatus.AWAITING_APPROVAL
    await conn.execute(
        deposits.insert().values(
            id=deposit_id,
            branch=branch,
            receipt_no=receipt_no,
            user_id=user_id,
            phone=phone,
            amount=amount.minor,
            currency=amount.currency,
            status=status,
            teller_id=teller_id,
            decided_by=None,
            reject_reason=None,
            ledger_transaction_id=None,
            created_at=now,
            updated_at=now,
            decided_at=None if awaiting else now,
        )
    )


async def insert_large_cash(
    conn: AsyncConnection,
    *,
    deposit_id: str,
    user_id: str,
    customer_name_masked: str | None,
    phone_masked: str,
    amount: Money,
    branch: str,
    teller_id: str,
    now: datetime,
) -> None:
    """The large-cash record of a deposit at or above the threshold (approved later)."""
    await conn.execute(
        large_cash.insert().values(
            id=new_id("lcr"),
            deposit_id=deposit_id,
            user_id=user_id,
            customer_name_masked=customer_name_masked,
            phone_masked=phone_masked,
            amount=amount.minor,
            currency=amount.currency,
            branch=branch,
            teller_id=teller_id,
            occurred_at=now,
            approved_by=None,
            approved_at=None,
        )
    )


async def set_ledger_transaction(
    conn: AsyncConnection, deposit_id: str, transaction_id: str
) -> None:
    await conn.execute(
        update(deposits)
        .where(deposits.c.id == deposit_id)
        .values(ledger_transaction_id=transaction_id)
    )


async def approve_large_cash(
    conn: AsyncConnection, deposit_id: str, *, staff_id: str, now: datetime
) -> None:
    await conn.execute(
        update(large_cash)
        .where(large_cash.c.deposit_id == deposit_id)
        .values(approved_by=staff_id, approved_at=now)
    )


async def claim_decision(
    conn: AsyncConnection,
    deposit_id: str,
    *,
    status: DepositStatus,
    staff_id: str,
    decided_at: datetime,
    reason: str | None,
) -> bool:
    """Move the deposit out of ``awaiting_approval``; False if it is gone or decided."""
    claimed = await conn.execute(
        update(deposits)
        .where(deposits.c.id == deposit_id, deposits.c.status == DepositStatus.AWAITING_APPROVAL)
        .values(
            status=status,
            decided_by=staff_id,
            decided_at=decided_at,
            updated_at=decided_at,
            reject_reason=reason,
        )
    )
    return bool(claimed.rowcount == 1)


async def list_deposits(
    conn: AsyncConnection,
    *,
    status: DepositStatus | None,
    after: tuple[datetime, str] | None,
    limit: int,
    teller_id: str | None = None,
) -> list[DepositView]:
    """Up to ``limit`` deposits newest first, optionally of one ``status`` and one teller,
    from after the position ``(created_at, id)``."""
    query = _deposits()
    if status is not None:
        query = query.where(deposits.c.status == status)
    if teller_id is not None:
        query = query.where(deposits.c.teller_id == teller_id)
    if after is not None:
        created_at, deposit_id = after
        query = query.where(
            or_(
                deposits.c.created_at < created_at,
                and_(deposits.c.created_at == created_at, deposits.c.id < deposit_id),
            )
        )
    query = query.order_by(deposits.c.created_at.desc(), deposits.c.id.desc()).limit(limit)
    return [DepositView.of(row) for row in await conn.execute(query)]


async def large_cash_between(
    conn: AsyncConnection, start: datetime, end: datetime
) -> list[LargeCashView]:
    """Every large-cash record taken in [start, end), oldest first, with the deposit status."""
    approver = staff.alias("approver")
    query = (
        select(
            large_cash,
            deposits.c.status.label("deposit_status"),
            func.coalesce(teller.c.display_name, teller.c.email).label("teller_name"),
            func.coalesce(approver.c.display_name, approver.c.email).label("approver_name"),
        )
        .join(deposits, deposits.c.id == large_cash.c.deposit_id)
        .outerjoin(teller, teller.c.id == large_cash.c.teller_id)
        .outerjoin(approver, approver.c.id == large_cash.c.approved_by)
        .where(large_cash.c.occurred_at >= start, large_cash.c.occurred_at < end)
        .order_by(large_cash.c.occurred_at, large_cash.c.id)
    )
    return [LargeCashView.of(row) for row in await conn.execute(query)]
