"""A withdrawal risk control sends to review waits on its two holds (docs/risk-review.md):
202 ``under_review``, amount and fee held, the bank NOT asked; approving commits first and
the outbox worker asks the bank once after it (``withdrawal:<id>``), exactly as for a fresh
withdrawal, the settle job covering a worker that never came; rejecting voids both holds and
releases the spend; a refused approval changes nothing; a risk challenge asks for a step-up,
then the withdrawal goes through. Through the app and its sandbox bank, SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.bootstrap.outbox import outbox_registry
from ewallet.config import Settings
from ewallet.funding.withdrawals.jobs import settle_pending_withdrawals
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.ledger.verify import verify_ledger
from ewallet.models.operations import StaffRole
from ewallet.models.risk import RuleAction
from ewallet.models.tables import risk_reviews
from ewallet.reviews.service import reject_review
from ewallet.security.context import SecurityContext
from ewallet.staff.principal import StaffPrincipal
from ewallet.worker import OutboxRelay
from tests.fixtures.accounts import PIN, TestUser, assert_problem, fast, make_app
from tests.fixtures.funding import BANK_GIVE_UP_SECONDS, warm_sandbox_bank
from tests.fixtures.serving import serving
from tests.fixtures.staff import make_staff
from tests.fixtures.web import LiveWallet, check_page, sign_in
from tests.fixtures.withdrawals import ICBC, Withdrawing
from tests.risk.challenge.helpers import ask_over, prove, step_up_code
from tests.risk.engine.helpers import install, rule
from tests.web.conftest import browser, live, page, page_errors
from tests.web.test_withdrawals import card_holder, start

from .helpers import BASE, NOTE, counts, only_review, staff_headers, wallet

__all__ = ["browser", "live", "page", "page_errors"]  # the web wallet's fixtures

PHONE = "+8613800000081"
AMOUNT, FEE = 300_00, 20  # ¥300.00: ¥200 above the ¥100 free quota at 0.1 % -> ¥0.20


@asynccontextmanager
async def bank_app(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, **changes: Any
) -> AsyncIterator[Withdrawing]:
    """The app with its sandbox bank, a ¥100 free quota, and no background relay (the
    tests run the outbox worker themselves)."""
    quick = fast(settings).model_copy(
        update={
            "embedded_worker": False,
            "withdrawal_free_quota_minor": 100_00,
            "withdrawal_fee_rate": Decimal("0.001"),
            "withdrawal_min_fee_minor": 10,
            "bank_timeout_seconds": BANK_GIVE_UP_SECONDS,
            **changes,
        }
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield Withdrawing(engine, quick, clock, security, client, app_services(app), app)


async def review_large_withdrawals(h: Withdrawing) -> None:
    """Withdrawals of 100 yuan or more go to review; nothing else acts."""
    await install(h, rule("look", "amount >= 100", RuleAction.REVIEW, events=("withdrawal",)))


async def held_withdrawal(h: Withdrawing, user: TestUser, card_id: str) -> Any:
    response = await h.withdraw(user, card_id, "300.00", key="held")
    assert response.status_code == 202, response.text
    assert response.json()["code"] == "under_review"
    return response.json()["withdrawal"]


async def bank_credits(h: Withdrawing) -> list[str]:
    """The request ids of every credit in the bank's settlement file today (Beijing)."""
    day = (h.clock.now() + timedelta(hours=8)).date()
    return [row.request_id for row in await h.gateway.settlement(day) if row.kind == "credit"]


async def run_worker(h: Withdrawing) -> int:
    """The outbox worker's pass over every due event: the app's own handlers."""
    relay = OutboxRelay(h.engine, outbox_registry(h.services), h.clock, worker_id="held-test")
    return await relay.drain()


async def decide(
    h: Withdrawing, review_id: str, verb: str, headers: dict[str, str]
) -> httpx.Response:
    return await h.client.post(f"{BASE}/{review_id}/{verb}", json={"note": NOTE}, headers=headers)


async def status(h: Withdrawing, user: TestUser, withdrawal_id: str) -> str:
    response = await h.client.get(f"/v1/withdrawals/{withdrawal_id}", headers=h.auth(user))
    assert response.status_code == 200, response.text
    return str(response.json()["withdrawal"]["status"])


async def test_a_reviewed_withdrawal_is_held_and_the_bank_is_not_asked(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with bank_app(engine, settings, clock) as h:
        user, card_id = await h.customer(PHONE, ICBC, "1000.00")
        await review_large_withdrawals(h)
        before = await counts(h)
        held = await held_withdrawal(h, user, card_id)
        assert (held["status"], held["fee"]["amount"], held["bank_reference"]) == (
            "under_review",
            "0.20",
            None,
        )
        due = h.clock.now() + timedelta(minutes=240)
        assert datetime.fromisoformat(held["review_due_at"]) == due
        # Amount and fee held, nothing posted, the bank never asked.
        assert await wallet(h, user) == (1000_00, AMOUNT + FEE)
        assert await bank_credits(h) == []
        after = await counts(h)
        assert after["ledger_transactions"] == before["ledger_transactions"]
        assert after["ledger_holds"] == before["ledger_holds"] + 2
        assert "withdrawal_under_review" in await h.kinds(user)
        review = await only_review(h)
        assert (review.channel, review.subject_id, review.amount) == (
            "withdrawal",
            held["id"],
            AMOUNT,
        )
        # It uses the free quota while it waits; only its owner reads it.
        preview = (await h.preview(user, card_id, "10.00")).json()
        assert preview["free_quota_remaining"]["amount"] == "0.00"
        stranger = await h.user(phone="+8613900000082", pin=PIN)
        other = await h.client.get(f"/v1/withdrawals/{held['id']}", headers=h.auth(stranger))
        assert_problem(other, 404, "not_found")
        assert_problem(await h.client.get(f"/v1/withdrawals/{held['id']}"), 401, "unauthorized")
        # A rerun answers the same held withdrawal; neither the worker nor the settle job
        # touches it.
        again = await h.withdraw(user, card_id, "300.00", key="held")
        assert (again.status_code, again.json()["withdrawal"]["id"]) == (202, held["id"])
        h.clock.advance(timedelta(minutes=45))
        await run_worker(h)
        report = await settle_pending_withdrawals(h.services)
        assert report.examined == 0
        assert await status(h, user, held["id"]) == "under_review"
        assert await bank_credits(h) == []
        assert await counts(h) == after


async def test_approving_asks_the_bank_once_after_the_decision(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with bank_app(engine, settings, clock) as h:
        user, card_id = await h.customer(PHONE, ICBC, "1000.00")
        await review_large_withdrawals(h)
        held = await held_withdrawal(h, user, card_id)
        review = await only_review(h)
        officer = await staff_headers(h, StaffRole.RISK_OFFICER)
        approved = await decide(h, review.id, "approve", officer)
        assert approved.status_code == 200, approved.text
        # The decision committed without the bank: it is asked by the worker, after.
        assert await status(h, user, held["id"]) == "processing"
        assert await bank_credits(h) == []
        assert "withdrawal_review_approved" in await h.kinds(user)
        await run_worker(h)
        assert await status(h, user, held["id"]) == "succeeded"
        assert await bank_credits(h) == [f"withdrawal:{held['id']}"]
        assert await wallet(h, user) == (1000_00 - AMOUNT - FEE, 0)
        assert await h.posted("bank_settlement:ICBC:CNY") == -AMOUNT
        assert "withdrawal_succeeded" in await h.kinds(user)
        # Once: a second approval is a conflict; the worker and the settle job add nothing.
        after = await counts(h)
        late = await decide(h, review.id, "approve", officer)
        assert assert_problem(late, 409, "conflict")["state"] == "approved"
        h.clock.advance(timedelta(minutes=45))
        await run_worker(h)
        await settle_pending_withdrawals(h.services)
        assert await counts(h) == after
        assert await bank_credits(h) == [f"withdrawal:{held['id']}"]
        assert (await verify_ledger(h.engine)).clean


async def test_a_worker_that_never_came_leaves_it_to_the_settle_job(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with bank_app(engine, settings, clock) as h:
        user, card_id = await h.customer(PHONE, ICBC, "1000.00")
        await review_large_withdrawals(h)
        held = await held_withdrawal(h, user, card_id)
        review = await only_review(h)
        h.clock.advance(timedelta(hours=3))  # decided long after it was made
        officer = await staff_headers(h, StaffRole.RISK_OFFICER)
        assert (await decide(h, review.id, "approve", officer)).status_code == 200
        # No worker ran. Once stale, the settle job asks the bank: it never heard of it, and
        # the grace counts from the approval, so the money stays held ...
        h.clock.advance(timedelta(minutes=6))
        early = await settle_pending_withdrawals(h.services)
        assert (early.examined, early.still_pending) == (1, [held["id"]])
        assert await status(h, user, held["id"]) == "processing"
        assert await wallet(h, user) == (1000_00, AMOUNT + FEE)
        # ... for the worker, which pays it out once when it comes.
        await run_worker(h)
        assert await status(h, user, held["id"]) == "succeeded"
        assert await bank_credits(h) == [f"withdrawal:{held['id']}"]
        assert await wallet(h, user) == (1000_00 - AMOUNT - FEE, 0)


async def test_rejecting_voids_both_holds_and_releases_the_limit(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    caps = dict.fromkeys(settings.limit_daily_pin_minor, 400_00)  # one 300 fits, two do not
    async with bank_app(engine, settings, clock, limit_daily_pin_minor=caps) as h:
        user, card_id = await h.customer(PHONE, ICBC, "1000.00")
        await review_large_withdrawals(h)
        held = await held_withdrawal(h, user, card_id)
        review = await only_review(h)
        await install(h)  # no rules: the next withdrawals go through if the limits allow
        over = await h.withdraw(user, card_id, "200.00", key="second")
        assert_problem(over, 403, "limit_exceeded")  # the held one counts toward the day
        officer = await staff_headers(h, StaffRole.RISK_OFFICER)
        rejected = await decide(h, review.id, "reject", officer)
        assert rejected.status_code == 200, rejected.text
        assert await wallet(h, user) == (1000_00, 0)  # amount and fee released
        assert await status(h, user, held["id"]) == "rejected"
        assert "withdrawal_review_rejected" in await h.kinds(user)
        await run_worker(h)
        assert await bank_credits(h) == []  # never asked
        # The quota and the day's limit are given back.
        preview = (await h.preview(user, card_id, "10.00")).json()
        assert preview["free_quota_remaining"]["amount"] == "100.00"
        again = await h.withdraw(user, card_id, "300.00", key="third")
        assert again.status_code == 201, again.text
        late = await decide(h, review.id, "approve", officer)
        assert assert_problem(late, 409, "conflict")["state"] == "rejected"
        assert await bank_credits(h) == [f"withdrawal:{again.json()['withdrawal']['id']}"]
        assert (await verify_ledger(h.engine)).clean


async def test_a_refused_approval_changes_nothing(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with bank_app(engine, settings, clock) as h:
        user, card_id = await h.customer(PHONE, ICBC, "1000.00")
        await review_large_withdrawals(h)
        held = await held_withdrawal(h, user, card_id)
        review = await only_review(h)
        officer = await staff_headers(h, StaffRole.RISK_OFFICER)
        agent = await staff_headers(h, StaffRole.SUPPORT_AGENT)
        assert_problem(await decide(h, review.id, "approve", agent), 403, "forbidden")
        # The card unbound meanwhile: there is nowhere to pay it out to.
        unbound = await h.client.post(
            f"/v1/me/cards/{card_id}/unbind", json={"payment_password": PIN}, headers=h.auth(user)
        )
        assert unbound.status_code == 204, unbound.text
        before = await counts(h)
        refused = await decide(h, review.id, "approve", officer)
        assert assert_problem(refused, 409, "conflict")["reason"] == "card_not_active"
        assert await counts(h) == before
        assert (await only_review(h)).state == "open"
        assert await status(h, user, held["id"]) == "under_review"
        assert await wallet(h, user) == (1000_00, AMOUNT + FEE)
        await run_worker(h)
        assert await bank_credits(h) == []
        # A rejection always goes through.
        assert (await decide(h, review.id, "reject", officer)).status_code == 200
        assert await wallet(h, user) == (1000_00, 0)


async def test_a_frozen_owner_is_never_paid_out(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with bank_app(engine, settings, clock) as h:
        user, card_id = await h.customer(PHONE, ICBC, "1000.00")
        await review_large_withdrawals(h)
        held = await held_withdrawal(h, user, card_id)
        review = await only_review(h)
        officer = await staff_headers(h, StaffRole.RISK_OFFICER)
        frozen = await h.client.post(
            "/v1/me/freeze", json={"payment_password": PIN}, headers=h.auth(user)
        )
        assert frozen.status_code < 300, frozen.text
        before = await counts(h)
        assert_problem(await decide(h, review.id, "approve", officer), 423, "account_frozen")
        assert await counts(h) == before
        assert await status(h, user, held["id"]) == "under_review"
        await run_worker(h)
        assert await bank_credits(h) == []


async def test_a_challenged_withdrawal_goes_through_after_the_step_up(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with bank_app(engine, settings, clock) as h:
        user, card_id = await h.customer(PHONE, ICBC, "1000.00")
        await ask_over(h, "100", "withdrawal")
        body = {"card_id": card_id, "amount": "300.00", "payment_password": PIN}
        headers = h.auth(user, **{"Idempotency-Key": "challenged"})
        first = await h.client.post("/v1/withdrawals", json=body, headers=headers)
        challenge = assert_problem(first, 401, "step_up_required")["challenge_id"]
        assert await h.rows(user) == []  # nothing held, nothing recorded
        assert await wallet(h, user) == (1000_00, 0)
        assert await bank_credits(h) == []
        passed = await prove(h, user, challenge, await step_up_code(h, PHONE))
        assert passed.status_code == 200, passed.text
        h.clock.advance(timedelta(seconds=1))
        done = await h.client.post(
            "/v1/withdrawals", json={**body, "challenge_id": challenge}, headers=headers
        )
        assert done.status_code == 201, done.text
        assert done.json()["withdrawal"]["status"] == "succeeded"
        assert await bank_credits(h) == [f"withdrawal:{done.json()['withdrawal']['id']}"]
        assert await wallet(h, user) == (1000_00 - AMOUNT - FEE, 0)


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


def test_the_web_wallet_shows_a_held_withdrawal_then_its_rejection(
    page: Page, live: LiveWallet
) -> None:
    user, _ = card_holder(live, "500.00")
    look = rule("look", "amount >= 10", RuleAction.REVIEW, events=("withdrawal",))
    live.run(install(live.shop, look))
    sign_in(page, live, user)
    start(page, live, "100.00")
    page.fill("#payment_password", PIN)
    page.get_by_role("button", name="Withdraw ¥100.00").click()
    expect(page.get_by_role("heading", name="Withdrawal under review")).to_be_visible()
    expect(page.get_by_role("heading", name="Withdrawal complete")).to_have_count(0)
    expect(page.locator(".outcome")).to_contain_text("expected by")
    check_page(page)
    live.run(_reject_the_only_review(live))
    page.reload()
    expect(page.get_by_role("heading", name="Withdrawal not approved")).to_be_visible()
    expect(page.locator(".outcome")).to_contain_text("back in your wallet")
    check_page(page)
    assert live.balance(user) == 500_00
