"""Running a reconciliation inside the test app, and reading the bank's side of things."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from ewallet.audit.service import Actor
from ewallet.reconciliation.service import get_run, run_reconciliation
from ewallet.reconciliation.views import ItemView, RunView
from tests.fixtures.accounts import PIN, TestUser
from tests.fixtures.withdrawals import Withdrawing

GRACE = timedelta(minutes=30)


def business_day(h: Withdrawing) -> date:
    """The bank's business day now (Beijing time, UTC+8)."""
    return (h.clock.now() + timedelta(hours=8)).date()


async def reconcile(h: Withdrawing, *, psp: bool = True) -> tuple[RunView, list[ItemView]]:
    # The grace before an operation the bank never saw is failed: the settings' default.
    assert timedelta(seconds=h.settings.bank_unknown_grace_seconds) == GRACE
    view = await run_reconciliation(
        h.services, Actor.system(), day=business_day(h), compare_psp=psp
    )
    return await get_run(h.services, Actor.system(), run_id=view.id)


async def top_up(
    h: Withdrawing, user: TestUser, card_id: str, amount: str, *, key: str | None = None
) -> httpx.Response:
    return await h.client.post(
        "/v1/topups",
        json={"method": "card", "card_id": card_id, "amount": amount, "payment_password": PIN},
        headers=h.auth(user, **{"Idempotency-Key": key or f"t-{card_id}-{amount}"}),
    )
