"""Helpers of the review queue tests: two funded users, a live rule that sends their
transfers to review (activated through the rule editor's service, as staff would), staff
tokens by role, and reads of what a decision changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ewallet.ledger import Ledger, chart
from ewallet.models.risk import RuleAction
from ewallet.models.tables import audit_events, ledger_holds, ledger_transactions, risk_reviews
from tests.fixtures.accounts import PIN, Harness, TestUser
from tests.fixtures.staff import bearer, make_staff, staff_token
from tests.fixtures.transfers import fund, set_tier, transfer
from tests.risk.engine.helpers import install, rule

BASE = "/v1/staff/risk/reviews"
ALICE, BOB = "+8613800000001", "+8613900000002"
NOTE = "called the customer: she knows the payee"


async def pair(harness: Harness, *, funds: str = "300.00") -> tuple[TestUser, TestUser]:
    alice = await harness.user(phone=ALICE, pin=PIN)
    bob = await harness.user(phone=BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    await set_tier(harness, bob, 2, name="张*伟")
    await fund(harness, alice, funds)
    return alice, bob


async def review_large_transfers(harness: Harness, threshold: str = "100") -> None:
    """Transfers of ``threshold`` yuan or more go to review; nothing else acts."""
    await install(harness, rule("look", f"amount >= {threshold}", RuleAction.REVIEW))


async def held_transfer(harness: Harness, payer: TestUser, amount: str = "100.00") -> Any:
    """A transfer to Bob that risk holds; its ``transfer`` object from the 202 answer."""
    response = await transfer(harness, payer, BOB, amount, key=f"held-{amount}")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["code"] == "under_review"
    return body["transfer"]


async def staff_headers(harness: Harness, role: str) -> dict[str, str]:
    login = await make_staff(harness.engine, harness.security, harness.clock, role)
    token = await staff_token(
        harness.engine, harness.security, harness.settings, harness.clock, login.id
    )
    return bearer(token)


async def only_review(harness: Harness) -> Any:
    async with harness.engine.connect() as conn:
        [row] = (await conn.execute(select(risk_reviews))).all()
    return row


async def wallet(harness: Harness, user: TestUser) -> tuple[int, int]:
    """The wallet's posted balance and what holds keep back from it (fen)."""
    account = await Ledger(harness.engine, clock=harness.clock).account_by_code(
        chart.wallet(user.id).code
    )
    assert account is not None
    return account.posted, account.pending_debits


async def counts(harness: Harness) -> dict[str, int]:
    async with harness.engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (ledger_transactions, ledger_holds, risk_reviews, audit_events)
        }


async def audited(harness: Harness, action: str) -> list[Any]:
    async with harness.engine.connect() as conn:
        statement = select(audit_events).where(audit_events.c.action == action)
        return list((await conn.execute(statement)).all())
