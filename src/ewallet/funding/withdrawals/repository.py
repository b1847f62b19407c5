"""Every statement on ``withdrawals`` (and the card a withdrawal pays out to).

Functions take the unit's connection (or the unit, for the ORM user) and return
:class:`~ewallet.funding.withdrawals.views.WithdrawalView` values. Finishing a withdrawal is
a conditional ``UPDATE`` out of the open states (:func:`claim_final`), which is how
concurrent settlers find one already finished; one held for risk review leaves
``under_review`` the same way (:func:`finish_held`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.funding.withdrawals.card_transfers import repository as card_transfers_repository
from ewallet.funding.withdrawals.fees import QUOTA_STATUSES
from ewallet.funding.withdrawals.views import OPEN, CardChoice, PayoutCard, WithdrawalView
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.money import Money
from ewallet.ledger import chart
from ewallet.ledger import repository as ledger_repository
from ewallet.models.funding import CardStatus, WithdrawalStatus
from ewallet.models.identity import User
from ewallet.models.tables import cards, risk_reviews, withdrawals


async def active_card(conn: AsyncConnection, *, user_id: str, card_id: str) -> PayoutCard | None:
    """The user's card ``card_id`` if it is ``active``."""
    row = (
        await conn.execute(
            select(cards.c.id, cards.c.bank_code, cards.c.agreement_token_encrypted).where(
                cards.c.id == card_id,
                cards.c.user_id == user_id,
                cards.c.status == CardStatus.ACTIVE,
            )
        )
    ).first()
    if row is None:
        return None
    return PayoutCard(row.id, row.bank_code, row.agreement_token_encrypted)


async def active_cards(conn: AsyncConnection, *, user_id: str) -> list[CardChoice]:
    """The user's ``active`` cards, newest first."""
    query = (
        select(
            cards.c.id, cards.c.bank_code, cards.c.bank_name, cards.c.card_type, cards.c.last_four
        )
        .where(cards.c.user_id == user_id, cards.c.status == CardStatus.ACTIVE)
        .order_by(cards.c.created_at.desc(), cards.c.id.desc())
    )
    return [
        CardChoice(row.id, row.bank_code, row.bank_name, row.card_type, row.last_four)
        for row in await conn.execute(query)
    ]


async def available(conn: AsyncConnection, *, user_id: str, currency: str) -> Money:
    """The wallet's available balance (posted less held; zero before its first movement)."""
    wallet = await ledger_repository.get_account_by_code(conn, chart.wallet(user_id, currency).code)
    return Money.zero(currency) if wallet is None else wallet.available_money()


async def quota_used(conn: AsyncConnection, *, user_id: str, currency: str) -> int:
    """The lifetime sum of the user's succeeded and in-flight withdrawals and transfers to
    other people's cards (minor units): the free quota is one, shared by both."""
    to_cards = await card_transfers_repository.quota_used(conn, user_id=user_id, currency=currency)
    total = await conn.scalar(
        select(func.coalesce(func.sum(withdrawals.c.amount), 0)).where(
            withdrawals.c.user_id == user_id,
            withdrawals.c.currency == currency,
            withdrawals.c.status.in_(QUOTA_STATUSES),
        )
    )
    return int(total or 0) + to_cards


async def insert_withdrawal(
    conn: AsyncConnection,
    *,
    withdrawal_id: str,
    user_id: str,
    card_id: str,
    amount: Money,
    fee: Money,
    request_key: str | None,
    now: datetime,
) -> None:
    """A ``processing`` withdrawal, its holds not made yet (an ``IntegrityError`` if its
    request key was used)."""
    await conn.execute(
        withdrawals.insert().values(
            id=withdrawal_id,
            user_id=user_id,
            card_id=card_id,
            amount=amount.minor,
            fee=fee.minor,
            currency=amount.currency,
            status=WithdrawalStatus.PROCESSING,
            hold_id=None,
            fee_hold_id=None,
            bank_reference=None,
            failure_reason=None,
            request_key=request_key,
            created_at=now,
            updated_at=now,
            completed_at=None,
        )
    )


async def set_holds(
    conn: AsyncConnection,
    withdrawal_id: str,
    *,
    hold_id: str,
    fee_hold_id: str | None,
    under_review: bool = False,
    review_id: str | None = None,
) -> WithdrawalView:
    """Record the withdrawal's ledger holds (``under_review``: held for a risk officer's
    decision, ``review_id`` deciding it); the withdrawal as it is now."""
    values: dict[str, Any] = {"hold_id": hold_id, "fee_hold_id": fee_hold_id}
    if under_review:
        values.update(status=WithdrawalStatus.UNDER_REVIEW, review_id=review_id)
    await conn.execute(update(withdrawals).where(withdrawals.c.id == withdrawal_id).values(values))
    found = await load_withdrawal(conn, withdrawal_id)
    assert found is not None
    return found


async def load_withdrawal(
    conn: AsyncConnection, withdrawal_id: str, *, user_id: str | None = None
) -> WithdrawalView | None:
    """The withdrawal ``withdrawal_id`` (with its review's due time, if one holds it);
    with ``user_id``, only if it is that user's."""
    statement = (
        select(withdrawals, risk_reviews.c.due_at.label("review_due_at"))
        .outerjoin(risk_reviews, risk_reviews.c.id == withdrawals.c.review_id)
        .where(withdrawals.c.id == withdrawal_id)
    )
    if user_id is not None:
        statement = statement.where(withdrawals.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else WithdrawalView.of(row)


async def claim_final(
    conn: AsyncConnection,
    withdrawal_id: str,
    *,
    status: WithdrawalStatus,
    now: datetime,
    bank_reference: str | None = None,
    failure_reason: str | None = None,
    forget_request: bool = False,
) -> WithdrawalView | None:
    """Move an open withdrawal to its final ``status``; None if someone else already did.

    ``forget_request`` drops the request key (the client's retry starts a new withdrawal).
    """
    values: dict[str, Any] = {
        "status": status,
        "updated_at": now,
        "completed_at": now,
        "failure_reason": failure_reason,
    }
    if status is WithdrawalStatus.SUCCEEDED:
        values["bank_reference"] = bank_reference
    if forget_request:
        values["request_key"] = None
    claimed = await conn.execute(
        update(withdrawals)
        .where(withdrawals.c.id == withdrawal_id, withdrawals.c.status.in_(OPEN))
        .values(values)
    )
    if claimed.rowcount != 1:
        return None
    return await load_withdrawal(conn, withdrawal_id)


async def finish_held(
    conn: AsyncConnection, withdrawal_id: str, *, status: WithdrawalStatus, now: datetime
) -> bool:
    """Move a withdrawal held for review to ``processing`` (approved: ``approved_at``, the
    bank to be asked) or ``rejected`` (final); False, changing nothing, if it is not under
    review."""
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status is WithdrawalStatus.PROCESSING:
        values["approved_at"] = now
    else:
        values["completed_at"] = now
    finished = await conn.execute(
        update(withdrawals)
        .where(
            withdrawals.c.id == withdrawal_id,
            withdrawals.c.status == WithdrawalStatus.UNDER_REVIEW,
        )
        .values(values)
    )
    return finished.rowcount == 1


async def claim_submission(
    conn: AsyncConnection, withdrawal_id: str, *, now: datetime
) -> WithdrawalView | None:
    """Take an approved withdrawal still ``processing`` to ask the bank now: its
    ``updated_at`` touched, so the settle job leaves it alone while the bank answers (it
    takes ``processing`` ones only once stale); None if it is finished or was never
    approved."""
    claimed = await conn.execute(
        update(withdrawals)
        .where(
            withdrawals.c.id == withdrawal_id,
            withdrawals.c.status == WithdrawalStatus.PROCESSING,
            withdrawals.c.approved_at.is_not(None),
        )
        .values(updated_at=now)
    )
    if claimed.rowcount != 1:
        return None
    return await load_withdrawal(conn, withdrawal_id)


async def mark_pending(
    conn: AsyncConnection, withdrawal_id: str, *, reason: str, now: datetime
) -> None:
    """A ``processing`` withdrawal whose bank answer is unknown becomes ``pending``."""
    await conn.execute(
        update(withdrawals)
        .where(
            withdrawals.c.id == withdrawal_id,
            withdrawals.c.status == WithdrawalStatus.PROCESSING,
        )
        .values(status=WithdrawalStatus.PENDING, failure_reason=reason[:200], updated_at=now)
    )


async def unsettled(
    conn: AsyncConnection, *, stale_before: datetime, limit: int
) -> list[WithdrawalView]:
    """Withdrawals to ask the bank about, oldest first: every ``pending`` one, and each
    ``processing`` one not touched since ``stale_before`` (its process stopped mid-way)."""
    status = withdrawals.c.status
    query = (
        select(withdrawals)
        .where(
            or_(
                status == WithdrawalStatus.PENDING,
                and_(
                    status == WithdrawalStatus.PROCESSING,
                    withdrawals.c.updated_at < stale_before,
                ),
            )
        )
        .order_by(withdrawals.c.created_at, withdrawals.c.id)
        .limit(limit)
    )
    return [WithdrawalView.of(row) for row in await conn.execute(query)]


async def owner(uow: UnitOfWork, user_id: str) -> User:
    """The withdrawal's owner (to notify them, or to check their account is still active),
    read afresh; the row exists (a foreign key)."""
    user = await uow.session.get(User, user_id, populate_existing=True)
    assert user is not None
    return user
