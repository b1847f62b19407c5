"""The SQL of earmarked card debits that more than one payer of them needs.

A card top-up is *earmarked* when a payment owns it: an order's card payment
(``card_payments.topup_id``) or a card-funded bill payment (``bill_payments.card_topup_id``).
Both count against one card daily cap, and neither is settled by the top-ups' own job.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.funding import TopupMethod, TopupStatus
from ewallet.models.tables import bill_payments, card_payments, topups

# A debit not known to have failed may have taken the money: it counts.
_COUNTED = (TopupStatus.PENDING, TopupStatus.SUCCEEDED)


def _funds_a_bill() -> ColumnElement[bool]:
    return exists().where(bill_payments.c.card_topup_id == topups.c.id)


def _funds_an_order() -> ColumnElement[bool]:
    return exists().where(card_payments.c.topup_id == topups.c.id)


async def earmarked_debited_since(conn: AsyncConnection, *, user_id: str, since: datetime) -> int:
    """The user's earmarked card debits (orders' and bills' card parts) since ``since``
    that may have been debited: pending, or credited to the wallet."""
    total = await conn.execute(
        select(func.coalesce(func.sum(topups.c.amount), 0)).where(
            topups.c.user_id == user_id,
            topups.c.method == TopupMethod.CARD,
            topups.c.created_at >= since,
            topups.c.status.in_(_COUNTED),
            or_(_funds_an_order(), _funds_a_bill()),
        )
    )
    return int(total.scalar_one())


async def bill_funding_topups(conn: AsyncConnection, topup_ids: Collection[str]) -> set[str]:
    """Those of ``topup_ids`` that fund a bill payment (its settle job settles them)."""
    if not topup_ids:
        return set()
    rows = await conn.execute(
        select(bill_payments.c.card_topup_id).where(
            bill_payments.c.card_topup_id.in_(list(topup_ids))
        )
    )
    return {str(row.card_topup_id) for row in rows}
