"""Every statement of card-funded payments: ``card_payments`` and the order's reservation.

Status changes are conditional ``UPDATE`` statements answering whether they changed the
row: of a request path and settle jobs racing to finish one payment, exactly one does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.funding.topups.card.earmarked import service as earmarked
from ewallet.kit.db.locking import for_no_key_update
from ewallet.kit.money import Money
from ewallet.ledger import repository as ledger_repository
from ewallet.models.card_payments import CardPaymentStatus, FundingSource
from ewallet.models.payments import OrderStatus
from ewallet.models.tables import card_payments, cards, orders
from ewallet.payments.card_funding.views import CardPaymentView, PendingCardPayment


async def wallet_available(conn: AsyncConnection, wallet_account_id: int) -> int:
    """The wallet's available balance (posted less holds), read under the payer's lock."""
    account = await ledger_repository.get_account(conn, wallet_account_id)
    return 0 if account is None else account.available


async def reserve_order(
    conn: AsyncConnection, *, order_id: str, payment_id: str, now: datetime
) -> bool:
    """Reserve an order that awaits payment, unexpired and unreserved, for ``payment_id``:
    of two payments racing for it exactly one gets True (the same row's ``UPDATE``)."""
    reserved = await conn.execute(
        update(orders)
        .where(
            orders.c.id == order_id,
            orders.c.status == OrderStatus.AWAITING_PAYMENT,
            orders.c.expires_at > now,
            orders.c.reserved_by.is_(None),
        )
        .values(reserved_by=payment_id, updated_at=now)
    )
    return bool(reserved.rowcount == 1)


async def release_order(
    conn: AsyncConnection, *, order_id: str, payment_id: str, now: datetime
) -> None:
    """Let others pay the order again (if ``payment_id`` still holds it)."""
    await conn.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.reserved_by == payment_id)
        .values(reserved_by=None, updated_at=now)
    )


async def lock_order(conn: AsyncConnection, order_id: str) -> None:
    """The order's row ``FOR NO KEY UPDATE`` (lock order step 2) before the ledger's rows:
    the claim that follows in the unit then takes no new lock."""
    await conn.execute(for_no_key_update(select(orders.c.id).where(orders.c.id == order_id)))


async def card_spent_since(conn: AsyncConnection, *, user_id: str, since: datetime) -> int:
    """The card parts of the user's payments since ``since`` that may have been debited --
    orders' and bills' together: one cap (the count is shared, in funding's earmarked
    debits)."""
    return await earmarked.card_spent_since(conn, user_id=user_id, since=since)


async def insert_card_payment(
    conn: AsyncConnection,
    *,
    payment_id: str,
    user_id: str,
    order_id: str,
    card_id: str,
    topup_id: str,
    source: FundingSource,
    balance_part: Money,
    card_part: Money,
    hold_id: str | None,
    request_key: str | None,
    now: datetime,
) -> CardPaymentView:
    amount = balance_part + card_part
    await conn.execute(
        card_payments.insert().values(
            id=payment_id,
            user_id=user_id,
            order_id=order_id,
            card_id=card_id,
            topup_id=topup_id,
            source=source,
            amount=amount.minor,
            balance_part=balance_part.minor,
            card_part=card_part.minor,
            currency=amount.currency,
            hold_id=hold_id,
            status=CardPaymentStatus.PENDING,
            failure_reason=None,
            request_key=request_key,
            created_at=now,
            updated_at=now,
        )
    )
    found = await card_payment(conn, payment_id)
    assert found is not None
    return found


async def card_payment(
    conn: AsyncConnection, payment_id: str, *, user_id: str | None = None
) -> CardPaymentView | None:
    statement = select(card_payments).where(card_payments.c.id == payment_id)
    if user_id is not None:
        statement = statement.where(card_payments.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else CardPaymentView.of(row)


async def card_payment_for_request(
    conn: AsyncConnection, *, user_id: str, request_key: str
) -> CardPaymentView | None:
    row = (
        await conn.execute(
            select(card_payments).where(
                card_payments.c.user_id == user_id, card_payments.c.request_key == request_key
            )
        )
    ).first()
    return None if row is None else CardPaymentView.of(row)


async def finish(
    conn: AsyncConnection,
    payment_id: str,
    *,
    status: CardPaymentStatus,
    now: datetime,
    reason: str | None = None,
    forget_request: bool = False,
) -> bool:
    """``pending`` -> ``status``: True for the one caller that moves it."""
    forget = {"request_key": None} if forget_request else {}
    changed = await conn.execute(
        update(card_payments)
        .where(
            card_payments.c.id == payment_id,
            card_payments.c.status == CardPaymentStatus.PENDING,
        )
        .values(status=status, failure_reason=reason, updated_at=now, **forget)
    )
    return bool(changed.rowcount == 1)


async def pending_card_payments(conn: AsyncConnection, *, limit: int) -> list[PendingCardPayment]:
    """Card payments still waiting for the bank's answer, oldest first."""
    rows = await conn.execute(
        select(card_payments, cards.c.bank_code)
        .join(cards, cards.c.id == card_payments.c.card_id)
        .where(card_payments.c.status == CardPaymentStatus.PENDING)
        .order_by(card_payments.c.created_at, card_payments.c.id)
        .limit(limit)
    )
    return [PendingCardPayment(CardPaymentView.of(row), str(row.bank_code)) for row in rows]
