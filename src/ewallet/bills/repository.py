"""All SQL of bills: the ``billers`` directory rows and the ``bill_payments`` rows.

Functions take the caller's connection and never commit. A payment leaves ``pending``
only through :func:`claim_payment` (a conditional ``UPDATE``), so it is settled at most
once however often, or however concurrently, it is delivered; one held for review leaves
``under_review`` only through :func:`finish_held`, the same way. A card-funded payment
still waiting for the bank (``card_status`` ``pending``) is neither claimed nor counted as
a delivery attempt: :mod:`ewallet.bills.card_funding.repository` finishes its card part.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.bills.views import BillFunding, BillLookup, BillPaymentView
from ewallet.integrations.biller.directory import BillerSpec
from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.models.bills import BillCardStatus, BillerStatus, BillPaymentStatus
from ewallet.models.identity import User
from ewallet.models.tables import bill_payments, billers, risk_reviews

# ----------------------------------------------------------------------------- billers


async def biller_ids(conn: AsyncConnection) -> set[str]:
    """The ids of every biller in the directory, active or not."""
    return set((await conn.execute(select(billers.c.id))).scalars())


async def insert_billers(
    conn: AsyncConnection, specs: Sequence[BillerSpec], *, now: datetime
) -> None:
    """Write these billers (a primary key already there refuses the whole statement)."""
    rows = [
        {
            "id": spec.id,
            "category": spec.category,
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "region": spec.region,
            "account_pattern": spec.account_pattern,
            "account_hint_zh": spec.account_hint_zh,
            "account_hint_en": spec.account_hint_en,
            "check_digit": spec.check_digit,
            "fixed_amounts": None if spec.fixed_amounts is None else list(spec.fixed_amounts),
            "status": spec.status,
            "sort_order": spec.sort_order,
            "created_at": now,
        }
        for spec in specs
    ]
    if rows:
        await conn.execute(insert(billers), rows)


async def active_billers(conn: AsyncConnection, *, category: str | None) -> list[BillerSpec]:
    """Active billers, by category then the directory's order."""
    statement = select(billers).where(billers.c.status == BillerStatus.ACTIVE)
    if category is not None:
        statement = statement.where(billers.c.category == category)
    statement = statement.order_by(billers.c.category, billers.c.sort_order, billers.c.id)
    return [BillerSpec.of(row) for row in await conn.execute(statement)]


async def find_biller(conn: AsyncConnection, biller_id: str) -> BillerSpec | None:
    """A biller whether active or not (past payments name it)."""
    row = (await conn.execute(select(billers).where(billers.c.id == biller_id))).first()
    return None if row is None else BillerSpec.of(row)


# ------------------------------------------------------------------------ bill payments


def _payments() -> Select[Any]:
    """Payments with the due time of the review holding them, if one does."""
    return select(bill_payments, risk_reviews.c.due_at.label("review_due_at")).outerjoin(
        risk_reviews, risk_reviews.c.id == bill_payments.c.review_id
    )


def payments_query() -> Select[Any]:
    """Payments as :func:`payment_of` reads them (for bills/card_funding's own queries)."""
    return _payments()


def payment_of(row: Row[Any]) -> BillPaymentView:
    """A row of :func:`payments_query` as the view."""
    return _view(row)


def _posted() -> ColumnElement[bool]:
    """Not waiting for the bank's answer on a card part (such a payment has posted nothing
    and its biller must not be told yet: bills/card_funding finishes it first)."""
    return or_(
        bill_payments.c.card_status.is_(None),
        bill_payments.c.card_status != BillCardStatus.PENDING,
    )


def _view(row: Row[Any]) -> BillPaymentView:
    due = row.review_due_at
    return BillPaymentView(
        id=row.id,
        user_id=row.user_id,
        biller_id=row.biller_id,
        account_no=row.account_no,
        holder_name_masked=row.holder_name_masked,
        period=row.period,
        amount=Money(row.amount, row.currency),
        status=row.status,
        ledger_transaction_id=row.ledger_transaction_id,
        refund_transaction_id=row.refund_transaction_id,
        biller_confirmation=row.biller_confirmation,
        receipt_no=row.receipt_no,
        failure_reason=row.failure_reason,
        delivery_attempts=row.delivery_attempts,
        created_at=row.created_at,
        completed_at=row.completed_at,
        hold_id=row.hold_id,
        review_id=row.review_id,
        review_due_at=None if due is None else as_utc(due),
        funding_source=row.funding_source,
        card_id=row.card_id,
        card_topup_id=row.card_topup_id,
        card_part=None if row.card_part is None else Money(row.card_part, row.currency),
        card_status=row.card_status,
    )


async def insert_payment(
    conn: AsyncConnection,
    *,
    payment_id: str,
    user_id: str,
    bill: BillLookup,
    amount: Money,
    ledger_transaction_id: str | None,
    request_digest: str | None,
    now: datetime,
    status: BillPaymentStatus = BillPaymentStatus.PENDING,
    hold_id: str | None = None,
    review_id: str | None = None,
    funding: BillFunding | None = None,
    card_topup_id: str | None = None,
) -> None:
    """Write a charged payment, ``pending`` (with its ledger transaction), or one held for
    review, ``under_review`` (with ``hold_id`` and ``review_id``), or a card-funded one
    waiting for the bank (``funding`` and its ``card_topup_id``, the balance part's hold
    ``hold_id``, no ledger transaction); a second one with the user's request key is
    refused by the unique index (``IntegrityError``)."""
    await conn.execute(
        insert(bill_payments).values(
            id=payment_id,
            user_id=user_id,
            biller_id=bill.biller.id,
            account_no=bill.account_no,
            holder_name_masked=bill.holder_name_masked or None,
            period=bill.period,
            amount=amount.minor,
            currency=amount.currency,
            status=status.value,
            ledger_transaction_id=ledger_transaction_id,
            hold_id=hold_id,
            review_id=review_id,
            refund_transaction_id=None,
            biller_confirmation=None,
            receipt_no=None,
            failure_reason=None,
            delivery_attempts=0,
            request_key=request_digest,
            created_at=now,
            updated_at=now,
            completed_at=None,
            funding_source=None if funding is None else funding.source,
            card_id=None if funding is None else funding.card_id,
            card_topup_id=card_topup_id,
            card_part=None if funding is None else funding.card.minor,
            card_status=None if funding is None else funding.card_status,
        )
    )


async def find_payment(
    conn: AsyncConnection, payment_id: str, *, user_id: str | None = None
) -> BillPaymentView | None:
    """The payment; with ``user_id``, only if it is that user's."""
    statement = _payments().where(bill_payments.c.id == payment_id)
    if user_id is not None:
        statement = statement.where(bill_payments.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else _view(row)


async def payment_for_request(
    conn: AsyncConnection, *, user_id: str, request_digest: str
) -> BillPaymentView | None:
    """The payment ``user_id`` made with this request key, if any."""
    statement = _payments().where(
        bill_payments.c.user_id == user_id, bill_payments.c.request_key == request_digest
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else _view(row)


async def claim_payment(
    conn: AsyncConnection, payment_id: str, *, now: datetime, **values: Any
) -> BillPaymentView | None:
    """Move a pending payment to its final state (``values``: status and what goes with it,
    one delivery attempt more); None if it was not pending any more."""
    claimed = await conn.execute(
        update(bill_payments)
        .where(
            bill_payments.c.id == payment_id,
            bill_payments.c.status == BillPaymentStatus.PENDING,
            _posted(),
        )
        .values(
            {
                "updated_at": now,
                "completed_at": now,
                "delivery_attempts": bill_payments.c.delivery_attempts + 1,
                **values,
            }
        )
    )
    if claimed.rowcount != 1:
        return None
    return await find_payment(conn, payment_id)


async def finish_held(
    conn: AsyncConnection,
    payment_id: str,
    *,
    status: BillPaymentStatus,
    ledger_transaction_id: str | None,
    now: datetime,
) -> bool:
    """Move a payment held for review to ``pending`` (approved: its hold posted as
    ``ledger_transaction_id``, the biller to be told) or ``rejected`` (final); False,
    changing nothing, if it is not under review."""
    values: dict[str, Any] = {
        "status": status.value,
        "ledger_transaction_id": ledger_transaction_id,
        "updated_at": now,
    }
    if status is BillPaymentStatus.REJECTED:
        values["completed_at"] = now
    finished = await conn.execute(
        update(bill_payments)
        .where(
            bill_payments.c.id == payment_id,
            bill_payments.c.status == BillPaymentStatus.UNDER_REVIEW,
        )
        .values(values)
    )
    return finished.rowcount == 1


async def set_refund(conn: AsyncConnection, payment_id: str, refund_transaction_id: str) -> None:
    await conn.execute(
        update(bill_payments)
        .where(bill_payments.c.id == payment_id)
        .values(refund_transaction_id=refund_transaction_id)
    )


async def note_attempt(
    conn: AsyncConnection, payment_id: str, *, reason: str, now: datetime
) -> None:
    """Count an unanswered delivery of a pending payment and why it went unanswered."""
    await conn.execute(
        update(bill_payments)
        .where(
            bill_payments.c.id == payment_id,
            bill_payments.c.status == BillPaymentStatus.PENDING,
            _posted(),
        )
        .values(
            delivery_attempts=bill_payments.c.delivery_attempts + 1,
            failure_reason=reason,
            updated_at=now,
        )
    )


async def find_user(session: AsyncSession, user_id: str) -> User | None:
    """The payer's row, read afresh (not locked): a notice goes to it in its locale, and a
    review's approval checks the account is still active."""
    return await session.get(User, user_id, populate_existing=True)
