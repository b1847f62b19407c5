"""Every statement of card-funded bill payments' card part (docs/bills.md).

The card part leaves ``pending`` once: :func:`lock_awaiting` takes the row while it still
waits for the bank (so of a request path and settle jobs racing to finish one payment
exactly one goes on), :func:`mark_debited` and :func:`mark_declined` are conditional
``UPDATE`` statements answering whether they changed the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.bills.repository import payment_of, payments_query
from ewallet.bills.views import BillPaymentView
from ewallet.kit.db.locking import for_no_key_update
from ewallet.ledger import repository as ledger_repository
from ewallet.models.bills import BillCardStatus, BillPaymentStatus
from ewallet.models.tables import bill_payments, cards


@dataclass(frozen=True, slots=True)
class AwaitingBill:
    """A card-funded bill payment whose card debit is unanswered, with its card's bank."""

    payment: BillPaymentView
    bank_code: str


def _awaiting(payment_id: str) -> tuple[ColumnElement[bool], ...]:
    return (
        bill_payments.c.id == payment_id,
        bill_payments.c.status == BillPaymentStatus.PENDING,
        bill_payments.c.card_status == BillCardStatus.PENDING,
    )


async def wallet_available(conn: AsyncConnection, wallet_account_id: int) -> int:
    """The wallet's available balance (posted less holds), read under the payer's lock."""
    account = await ledger_repository.get_account(conn, wallet_account_id)
    return 0 if account is None else account.available


async def lock_awaiting(conn: AsyncConnection, payment_id: str) -> bool:
    """The payment's row ``FOR NO KEY UPDATE`` if its card part still waits for the bank:
    False (nothing to do) once another run finished it."""
    row = await conn.execute(
        for_no_key_update(select(bill_payments.c.id).where(*_awaiting(payment_id)))
    )
    return row.first() is not None


async def mark_debited(
    conn: AsyncConnection, payment_id: str, *, ledger_transaction_id: str, now: datetime
) -> bool:
    """The card was debited and the bill paid from the wallet by ``ledger_transaction_id``:
    an ordinary ``pending`` payment from now on (the biller to be told)."""
    changed = await conn.execute(
        update(bill_payments)
        .where(*_awaiting(payment_id))
        .values(
            card_status=BillCardStatus.DEBITED.value,
            ledger_transaction_id=ledger_transaction_id,
            updated_at=now,
        )
    )
    return bool(changed.rowcount == 1)


async def mark_declined(
    conn: AsyncConnection, payment_id: str, *, reason: str, now: datetime
) -> bool:
    """The card was not debited: ``rejected`` (final, nothing posted), the request key let
    go (the same request may be made again)."""
    changed = await conn.execute(
        update(bill_payments)
        .where(*_awaiting(payment_id))
        .values(
            status=BillPaymentStatus.REJECTED.value,
            card_status=BillCardStatus.DECLINED.value,
            failure_reason=reason,
            request_key=None,
            updated_at=now,
            completed_at=now,
        )
    )
    return bool(changed.rowcount == 1)


async def awaiting_bills(conn: AsyncConnection, *, limit: int) -> list[AwaitingBill]:
    """Card-funded bill payments still waiting for the bank's answer, oldest first."""
    rows = await conn.execute(
        payments_query()
        .add_columns(cards.c.bank_code)
        .join(cards, cards.c.id == bill_payments.c.card_id)
        .where(
            bill_payments.c.status == BillPaymentStatus.PENDING,
            bill_payments.c.card_status == BillCardStatus.PENDING,
        )
        .order_by(bill_payments.c.created_at, bill_payments.c.id)
        .limit(limit)
    )
    return [AwaitingBill(payment_of(row), str(row.bank_code)) for row in rows]
