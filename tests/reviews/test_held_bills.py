"""A bill payment risk control sends to review waits on a hold (docs/risk-review.md): 202
``under_review``, the payer's available balance down by the amount, the biller NOT told and
no delivery queued; approving posts the hold and the biller is told exactly once (by the
queued delivery); rejecting releases the hold and the spend from the day's limits; a refused
approval changes nothing; a risk challenge asks for a step-up, then the payment goes through.
Everything runs through the app and its sandbox biller, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.ledger.verify import verify_ledger
from ewallet.models.operations import StaffRole
from ewallet.models.outbox import OutboxEvent
from ewallet.models.risk import RuleAction
from ewallet.models.tables import bill_payments, billers, risk_reviews
from ewallet.reviews.service import reject_review
from ewallet.security.context import SecurityContext
from ewallet.staff.principal import StaffPrincipal
from tests.bills.conftest import ACCOUNTS, BILLER_GIVE_UP_SECONDS, RETRY_SECONDS, Billing, fund
from tests.fixtures.accounts import PIN, TestUser, assert_problem, fast, make_app
from tests.fixtures.serving import serving
from tests.fixtures.staff import make_staff
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.risk.challenge.helpers import ask_over, prove, step_up_code
from tests.risk.engine.helpers import install, rule
from tests.web.conftest import browser, live, page, page_errors
from tests.web.test_bills import look_up, pay

from .helpers import BASE, NOTE, counts, only_review, staff_headers, wallet

__all__ = ["browser", "live", "page", "page_errors"]  # the web wallet's fixtures

PHONE = "+8613800000071"
DUE = ACCOUNTS["due"]


@asynccontextmanager
async def biller_app(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, **changes: Any
) -> AsyncIterator[Billing]:
    """The app with its sandbox biller, no background relay (the tests drain the outbox)."""
    quick = fast(settings).model_copy(
        update={
            "embedded_worker": False,
            "biller_timeout_seconds": BILLER_GIVE_UP_SECONDS,
            "bill_delivery_retry_seconds": RETRY_SECONDS,
            **changes,
        }
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Billing(engine, quick, clock, security, client, app_services(app), app)


async def payer(b: Billing, funds: str = "500.00") -> TestUser:
    user = await b.user(phone=PHONE, pin=PIN)
    await fund(b, user, funds)
    return user


async def review_large_bills(b: Billing) -> None:
    """Bill payments of 100 yuan or more go to review; nothing else acts."""
    await install(b, rule("look", "amount >= 100", RuleAction.REVIEW, events=("bill",)))


async def held_bill(b: Billing, user: TestUser, amount: str = "120.00") -> Any:
    response = await b.pay(user, DUE, amount, key=f"held-{amount}")
    assert response.status_code == 202, response.text
    assert response.json()["code"] == "under_review"
    return response.json()["bill_payment"]


async def deliveries(b: Billing) -> int:
    """The ``bills.deliver`` events queued so far (any state)."""
    table = OutboxEvent.__table__
    async with b.engine.connect() as conn:
        statement = select(func.count()).select_from(table).where(table.c.topic == "bills.deliver")
        return int(await conn.scalar(statement) or 0)


async def decide(b: Billing, review_id: str, verb: str, headers: dict[str, str]) -> httpx.Response:
    return await b.client.post(f"{BASE}/{review_id}/{verb}", json={"note": NOTE}, headers=headers)


async def read(b: Billing, user: TestUser, payment_id: str) -> httpx.Response:
    return await b.client.get(f"/v1/bill-payments/{payment_id}", headers=b.auth(user))


async def test_a_reviewed_bill_is_held_and_the_biller_is_not_told(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with biller_app(engine, settings, clock) as b:
        user = await payer(b)
        await review_large_bills(b)
        small = await b.pay(user, DUE, "99.99")
        assert small.status_code == 201, small.text  # below the rule: paid at once
        before = await counts(b)
        held = await held_bill(b, user)
        assert (held["status"], held["transaction_id"], held["receipt_no"]) == (
            "under_review",
            None,
            None,
        )
        due = b.clock.now() + timedelta(minutes=240)  # EWALLET_RISK_REVIEW_SLA_MINUTES
        assert datetime.fromisoformat(held["review_due_at"]) == due
        # The money waits on a hold; the biller heard of the small payment only.
        assert await wallet(b, user) == (500_00 - 99_99, 120_00)
        assert await b.sandbox.count_payments() == 1
        assert await b.sandbox.recorded(held["id"]) is None
        assert await deliveries(b) == 1  # the small payment's safety net, none for this one
        after = await counts(b)
        assert after["ledger_transactions"] == before["ledger_transactions"]
        assert after["ledger_holds"] == before["ledger_holds"] + 1
        assert "bill_under_review" in await b.kinds(user)
        review = await only_review(b)
        assert (review.state, review.subject_id, review.channel, review.amount) == (
            "open",
            held["id"],
            "bill",
            120_00,
        )
        # The payer reads it with its due time; nobody else can, nor without a token.
        mine = await read(b, user, held["id"])
        assert mine.status_code == 200, mine.text
        assert mine.json()["bill_payment"] == held
        stranger = await b.user(phone="+8613900000072", pin=PIN)
        assert_problem(await read(b, stranger, held["id"]), 404, "not_found")
        anonymous = await b.client.get(f"/v1/bill-payments/{held['id']}")
        assert_problem(anonymous, 401, "unauthorized")
        receipt = await b.client.get(
            f"/v1/bill-payments/{held['id']}/receipt", headers=b.auth(user)
        )
        assert assert_problem(receipt, 409, "bill_receipt_not_ready")["status_of_payment"] == (
            "under_review"
        )
        # The same request again answers the same held payment: no second hold or review.
        again = await b.pay(user, DUE, "120.00", key="held-120.00")
        assert again.status_code == 202, again.text
        assert again.json()["bill_payment"]["id"] == held["id"]
        assert await counts(b) == after
        # Draining the outbox tells the biller nothing about it.
        b.clock.advance(timedelta(seconds=RETRY_SECONDS + 1))
        await b.relay().drain()
        assert await b.sandbox.count_payments() == 1
        assert (await read(b, user, held["id"])).json()["bill_payment"]["status"] == (
            "under_review"
        )


async def test_approving_tells_the_biller_exactly_once(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with biller_app(engine, settings, clock) as b:
        user = await payer(b)
        await review_large_bills(b)
        held = await held_bill(b, user)
        review = await only_review(b)
        officer = await staff_headers(b, StaffRole.RISK_OFFICER)
        approved = await decide(b, review.id, "approve", officer)
        assert approved.status_code == 200, approved.text
        assert approved.json()["review"]["state"] == "approved"
        # Posted in the approval's unit; the biller is told after it, by the queued delivery.
        posted = (await read(b, user, held["id"])).json()["bill_payment"]
        assert (posted["status"], posted["transaction_id"] is not None) == ("pending", True)
        assert await wallet(b, user) == (380_00, 0)
        assert await b.payable() == 120_00
        assert await b.sandbox.count_payments() == 0
        assert "bill_review_approved" in await b.kinds(user)
        await b.relay().drain()  # due at once
        done = (await read(b, user, held["id"])).json()["bill_payment"]
        assert (done["status"], done["receipt_no"] is not None) == ("succeeded", True)
        told = await b.sandbox.recorded(held["id"])
        assert told is not None
        assert (told["amount_fen"], told["notifications"]) == (120_00, 1)
        assert "bill_paid" in await b.kinds(user)
        # Once: a second approval, or a late rejection, is a conflict that changes nothing.
        after = await counts(b)
        for verb in ("approve", "reject"):
            late = await decide(b, review.id, verb, officer)
            assert assert_problem(late, 409, "conflict")["state"] == "approved"
        assert await counts(b) == after
        b.clock.advance(timedelta(seconds=RETRY_SECONDS + 1))
        await b.relay().drain()
        assert (await b.sandbox.recorded(held["id"]) or {})["notifications"] == 1
        assert await b.sandbox.count_payments() == 1
        assert await wallet(b, user) == (380_00, 0)
        assert (await verify_ledger(b.engine)).clean


async def test_rejecting_releases_the_hold_and_the_days_limit(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    caps = dict.fromkeys(settings.limit_daily_pin_minor, 150_00)  # one 120 fits, two do not
    async with biller_app(engine, settings, clock, limit_daily_pin_minor=caps) as b:
        user = await payer(b)
        await review_large_bills(b)
        held = await held_bill(b, user)
        review = await only_review(b)
        await install(b)  # no rules: the next payments go through if the limits allow
        over = await b.pay(user, DUE, "100.00", key="second")
        assert_problem(over, 403, "limit_exceeded")  # the held one counts toward the day
        # Support agents cannot decide reviews.
        agent = await staff_headers(b, StaffRole.SUPPORT_AGENT)
        assert_problem(await decide(b, review.id, "reject", agent), 403, "forbidden")
        officer = await staff_headers(b, StaffRole.RISK_OFFICER)
        rejected = await decide(b, review.id, "reject", officer)
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["review"]["state"] == "rejected"
        assert await wallet(b, user) == (500_00, 0)  # the money is back
        shown = (await read(b, user, held["id"])).json()["bill_payment"]
        assert (shown["status"], shown["transaction_id"], shown["completed_at"] is not None) == (
            "rejected",
            None,
            True,
        )
        assert "bill_review_rejected" in await b.kinds(user)
        await b.relay().drain()
        assert await b.sandbox.count_payments() == 0  # never told
        # The rejected spend no longer counts: the same amount can go again today.
        again = await b.pay(user, DUE, "100.00", key="third")
        assert again.status_code == 201, again.text
        late = await decide(b, review.id, "approve", officer)
        assert assert_problem(late, 409, "conflict")["state"] == "rejected"
        assert await wallet(b, user) == (400_00, 0)
        assert (await verify_ledger(b.engine)).clean


async def test_a_refused_approval_changes_nothing(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with biller_app(engine, settings, clock) as b:
        user = await payer(b)
        await review_large_bills(b)
        held = await held_bill(b, user)
        review = await only_review(b)
        officer = await staff_headers(b, StaffRole.RISK_OFFICER)
        before = await counts(b)
        # The biller suspended meanwhile: money is not sent where it cannot be delivered.
        async with b.engine.begin() as conn:
            await conn.execute(
                update(billers).where(billers.c.id == "sgcc_bj").values(status="suspended")
            )
        refused = await decide(b, review.id, "approve", officer)
        assert assert_problem(refused, 409, "conflict")["reason"] == "biller_suspended"
        assert await counts(b) == before
        async with b.engine.begin() as conn:
            await conn.execute(
                update(billers).where(billers.c.id == "sgcc_bj").values(status="active")
            )
        # The payer's account frozen meanwhile: money never leaves a frozen account.
        frozen = await b.client.post(
            "/v1/me/freeze", json={"payment_password": PIN}, headers=b.auth(user)
        )
        assert frozen.status_code < 300, frozen.text
        before = {**before, "audit_events": (await counts(b))["audit_events"]}
        assert_problem(await decide(b, review.id, "approve", officer), 423, "account_frozen")
        assert await counts(b) == before
        assert (await only_review(b)).state == "open"
        assert await wallet(b, user) == (500_00, 120_00)
        async with b.engine.connect() as conn:
            status = await conn.scalar(
                select(bill_payments.c.status).where(bill_payments.c.id == held["id"])
            )
        assert status == "under_review"
        await b.relay().drain()
        assert await b.sandbox.count_payments() == 0
        # A rejection always goes through.
        rejected = await decide(b, review.id, "reject", officer)
        assert rejected.status_code == 200, rejected.text
        assert await wallet(b, user) == (500_00, 0)


async def test_a_challenged_bill_is_paid_after_the_step_up(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with biller_app(engine, settings, clock) as b:
        user = await payer(b)
        await ask_over(b, "100", "bill")
        body = {
            "biller_id": "sgcc_bj",
            "account_no": DUE,
            "amount": "120.00",
            "payment_password": PIN,
        }
        headers = b.auth(user, **{"Idempotency-Key": "challenged"})
        first = await b.client.post("/v1/bill-payments", json=body, headers=headers)
        challenge = assert_problem(first, 401, "step_up_required")["challenge_id"]
        assert await wallet(b, user) == (500_00, 0)  # nothing moved
        assert await b.count(bill_payments) == 0
        assert await b.sandbox.count_payments() == 0
        passed = await prove(b, user, challenge, await step_up_code(b, PHONE))
        assert passed.status_code == 200, passed.text
        b.clock.advance(timedelta(seconds=1))
        done = await b.client.post(
            "/v1/bill-payments", json={**body, "challenge_id": challenge}, headers=headers
        )
        assert done.status_code == 201, done.text
        assert done.json()["bill_payment"]["status"] == "succeeded"
        assert await wallet(b, user) == (380_00, 0)
        assert await b.sandbox.count_payments() == 1


async def _reject_the_only_review(live: LiveWallet) -> None:
    async with live.shop.engine.connect() as conn:
        review_id = (await conn.execute(select(risk_reviews.c.id))).scalar_one()
    officer = await make_staff(live.shop.engine, live.shop.security, live.clock, "risk_officer")
    staff = StaffPrincipal(
        staff_id=officer.id,
        session_id="ssn_officer",
        role=StaffRole.RISK_OFFICER,
        must_change_password=False,
        session_expires_at=live.clock.now(),
    )
    await reject_review(live.shop.services, staff, review_id=review_id, note=NOTE)


def test_the_web_wallet_shows_a_held_bill_then_its_rejection(page: Page, live: LiveWallet) -> None:
    user = live.customer("600.00")
    live.run(install(live.shop, rule("look", "amount >= 10", RuleAction.REVIEW, events=("bill",))))
    sign_in(page, live, user)
    look_up(page, live, DUE)
    pay(page)
    expect(page.get_by_role("heading", name="Bill payment under review")).to_be_visible()
    expect(page.get_by_role("heading", name="Bill paid")).to_have_count(0)
    expect(page.locator(".outcome")).to_contain_text("expected by")
    expect(page.get_by_role("link", name="Download the receipt (PDF)")).to_have_count(0)
    check_page(page)
    live.run(_reject_the_only_review(live))
    page.reload()
    expect(page.get_by_role("heading", name="Bill payment not approved")).to_be_visible()
    expect(page.locator(".outcome")).to_contain_text("the money is back in your wallet")
    check_page(page)
    assert live.balance(user) == 600_00
