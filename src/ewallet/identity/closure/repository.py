"""SQL of account closure: what still blocks it, the tombstone, and erasing after retention.

The blockers are read straight from the tables of the features that own the states
(``topups``, ``withdrawals``, ``bill_payments``, ``transfers``, ``payments``,
``held_payments``, ``counter_deposits``, ``cards``) and from the user's wallet accounts in
the ledger: identity sits below those features and may not import their services, and the
question asked -- "does any row of this user sit in a non-final state?" -- is the same
everywhere. No commits here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.closure.views import Blocker
from ewallet.kit.db.locking import for_no_key_update
from ewallet.models.bills import BillPaymentStatus
from ewallet.models.counter import DepositStatus
from ewallet.models.funding import CardStatus, TopupStatus, WithdrawalStatus
from ewallet.models.payments import HeldPaymentState
from ewallet.models.tables import (
    bill_payments,
    cards,
    closed_accounts,
    counter_deposits,
    devices,
    held_payments,
    ledger_accounts,
    notifications,
    support_customer_emails,
    topups,
    transfers,
    users,
    withdrawals,
)
from ewallet.models.transfers import TransferStatus


def _wallet_accounts(user_id: str) -> Any:
    # ``chart.wallet``'s codes: ``wallet:<user id>:<currency>`` (``_`` escaped for LIKE).
    return and_(
        ledger_accounts.c.kind == "wallet",
        ledger_accounts.c.code.startswith(f"wallet:{user_id}:", autoescape=True),
    )


async def lock_wallet_accounts(conn: AsyncConnection, user_id: str) -> list[Any]:
    """The user's wallet accounts, locked in id order (step 4 of the lock order), so no
    movement lands between the zero-balance check and the closure's commit."""
    query = (
        select(
            ledger_accounts.c.id,
            ledger_accounts.c.posted,
            ledger_accounts.c.pending_debits,
            ledger_accounts.c.pending_credits,
        )
        .where(_wallet_accounts(user_id))
        .order_by(ledger_accounts.c.id)
    )
    return list(await conn.execute(for_no_key_update(query)))


async def wallet_accounts(conn: AsyncConnection, user_id: str) -> list[Any]:
    """The same rows, unlocked (the read-only preview)."""
    query = select(
        ledger_accounts.c.id,
        ledger_accounts.c.posted,
        ledger_accounts.c.pending_debits,
        ledger_accounts.c.pending_credits,
    ).where(_wallet_accounts(user_id))
    return list(await conn.execute(query))


def _any(table: Any, *where: Any) -> Any:
    return exists().where(*where).select_from(table)


async def pending_blockers(conn: AsyncConnection, user_id: str) -> set[Blocker]:
    """Bound cards and movements not yet final, in one round trip."""
    checks: dict[Blocker, Any] = {
        Blocker.CARDS: _any(cards, cards.c.user_id == user_id, cards.c.status == CardStatus.ACTIVE),
        Blocker.PENDING_TOPUPS: _any(
            topups,
            topups.c.user_id == user_id,
            topups.c.status.in_([TopupStatus.AWAITING_PAYMENT, TopupStatus.PENDING]),
        ),
        Blocker.PENDING_WITHDRAWALS: _any(
            withdrawals,
            withdrawals.c.user_id == user_id,
            withdrawals.c.status.in_(
                [
                    WithdrawalStatus.PROCESSING,
                    WithdrawalStatus.PENDING,
                    WithdrawalStatus.UNDER_REVIEW,
                ]
            ),
        ),
        Blocker.PENDING_BILL_PAYMENTS: _any(
            bill_payments,
            bill_payments.c.user_id == user_id,
            bill_payments.c.status.in_([BillPaymentStatus.PENDING, BillPaymentStatus.UNDER_REVIEW]),
        ),
        Blocker.PENDING_TRANSFERS: _any(
            transfers,
            or_(transfers.c.payer_user_id == user_id, transfers.c.payee_user_id == user_id),
            transfers.c.status == TransferStatus.UNDER_REVIEW,
        ),
        # A payment waiting for a risk officer lives in ``held_payments`` alone.
        Blocker.PENDING_PAYMENTS: _any(
            held_payments,
            held_payments.c.user_id == user_id,
            held_payments.c.state == HeldPaymentState.UNDER_REVIEW,
        ),
        Blocker.PENDING_COUNTER_DEPOSITS: _any(
            counter_deposits,
            counter_deposits.c.user_id == user_id,
            counter_deposits.c.status == DepositStatus.AWAITING_APPROVAL,
        ),
    }
    names = list(checks)
    row = (await conn.execute(select(*(checks[name].label(name.value) for name in names)))).one()
    return {name for name, found in zip(names, row, strict=True) if found}


async def insert_closed_account(
    conn: AsyncConnection,
    *,
    user_id: str,
    closed_at: datetime,
    phone_digest: str,
    erase_after: datetime,
) -> None:
    await conn.execute(
        insert(closed_accounts).values(
            user_id=user_id,
            closed_at=closed_at,
            phone_digest=phone_digest,
            erase_after=erase_after,
            erased_at=None,
        )
    )


async def closed_account(conn: AsyncConnection, user_id: str) -> Any:
    query = select(closed_accounts).where(closed_accounts.c.user_id == user_id)
    return (await conn.execute(query)).first()


async def due_for_erasure(conn: AsyncConnection, *, now: datetime, limit: int) -> list[str]:
    """Closed accounts whose retention period ended and that were not erased yet."""
    query = (
        select(closed_accounts.c.user_id)
        .where(closed_accounts.c.erase_after <= now, closed_accounts.c.erased_at.is_(None))
        .order_by(closed_accounts.c.erase_after)
        .limit(limit)
    )
    return [row.user_id for row in await conn.execute(query)]


async def erase_personal_data(conn: AsyncConnection, *, user_id: str, now: datetime) -> bool:
    """Erase one closed account's personal fields; the ledger, audit chain and money rows
    keep their ids and amounts. False when another run erased it first."""
    claimed = await conn.execute(
        update(closed_accounts)
        .where(closed_accounts.c.user_id == user_id, closed_accounts.c.erased_at.is_(None))
        .values(erased_at=now, phone_digest=None)
    )
    if claimed.rowcount != 1:
        return False
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(
            nickname=None,
            real_name_encrypted=None,
            real_name_masked=None,
            id_number_encrypted=None,
            id_number_masked=None,
            id_number_digest=None,
            totp_secret_encrypted=None,
            anti_phishing_code=None,
            login_password_digit_digests=None,
            frozen_reason=None,
            updated_at=now,
        )
    )
    await conn.execute(
        update(devices)
        .where(devices.c.user_id == user_id)
        .values(device_key=devices.c.id, label=None, last_ip=None)
    )
    await conn.execute(
        update(notifications).where(notifications.c.user_id == user_id).values(params={})
    )
    await conn.execute(
        update(support_customer_emails)
        .where(support_customer_emails.c.user_id == user_id)
        .values(email="", code_hash=None)
    )
    return True
