"""Running a reconciliation inside the test app, and reading the bank's side of things."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from ewallet.audit.service import Actor
from ewallet.reconciliation.runner import Reconciliation
from ewallet.reconciliation.store import RunView, get_run
from tests.account_security.conftest import PIN, TestUser
from tests.withdrawals.conftest import Withdrawing

GRACE = timedelta(minutes=30)


def business_day(h: Withdrawing) -> date:
    """The bank's business day now (Beijing time, UTC+8)."""
    return (h.clock.now() + timedelta(hours=8)).date()


async def reconcile(h: Withdrawing, *, psp: bool = True) -> tuple[RunView, list[Any]]:
    assert h.app is not None
    reconciliation = Reconciliation(
        engine=h.engine,
        ledger=h.ledger,
        clock=h.clock,
        gateway=h.gateway,
        psp=h.app.state.psp if psp else None,
        grace=GRACE,
    )
    view = await reconciliation.run(business_day(h), actor=Actor.system())
    return await get_run(h.engine, view.id)


async def top_up(
    h: Withdrawing, user: TestUser, card_id: str, amount: str, *, key: str | None = None
) -> httpx.Response:
    return await h.client.post(
        "/v1/topups",
        json={"method": "card", "card_id": card_id, "amount": amount, "payment_password": PIN},
        headers=h.auth(user, **{"Idempotency-Key": key or f"t-{card_id}-{amount}"}),
    )
