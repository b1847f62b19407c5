"""What a transfer's parties are told: the payee once the money reaches them, the payer at
each step of a transfer that does not post at once (held for review, scheduled, arrived,
cancelled, returned). Written in the unit that makes the step, so a rolled-back step tells
no one."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.money import Money
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.transfers.views import Party

# The payer's notices that also go out by SMS: the outcome comes later, when they may not
# be looking (a review's decision, money sent back); the others answer what they just did.
BY_SMS: Final = frozenset(
    {"transfer_review_approved", "transfer_review_rejected", "transfer_returned"}
)


async def tell_payee(
    uow: UnitOfWork, clock: Clock, *, payer: User, payee: User, amount: Money, memo: str | None
) -> None:
    """The money reached the payee (in-app only)."""
    await notify_user(
        uow.session,
        clock=clock,
        user=payee,
        kind="transfer_received",
        params={
            "payer": payer.real_name_masked or Party.of(payer).phone_masked,
            "amount": amount.to_decimal_string(),
            "currency": amount.currency,
            "memo": memo or "",
        },
        sms=False,
        security=False,
    )


async def tell_payer(
    uow: UnitOfWork,
    clock: Clock,
    kind: str,
    *,
    payer: User,
    payee: User,
    amount: Money,
    due: datetime | None = None,
    arrives: datetime | None = None,
) -> None:
    """The payer's notice ``kind`` about a transfer that did not post at once: ``due`` is
    when a review's decision is due, ``arrives`` when a scheduled transfer arrives (both
    stored as moments, shown in the reader's words)."""
    params: dict[str, object] = {
        "payee": Party.of(payee).describe(),
        "amount": amount.to_decimal_string(),
        "currency": amount.currency,
    }
    if due is not None:
        params["due"] = due
    if arrives is not None:
        params["arrives"] = arrives
    await notify_user(
        uow.session,
        clock=clock,
        user=payer,
        kind=kind,
        params=params,
        sms=kind in BY_SMS,
        security=False,
    )
