"""Money in passes the decision point: card and PSP top-ups before the bank or the PSP is
asked, counter deposits as the teller records them. The default card-testing rule blocks at
its boundary (and the bank never hears of the blocked top-up), the default structuring rule
leaves a report candidate at its boundary and lets the cash in; a block records nothing and
moves nothing, a challenge or a review is recorded and the money comes in."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.models.risk import RuleAction
from ewallet.models.tables import aml_report_candidates, risk_decisions, users
from ewallet.sandbox.bank import sandbox_bank_of
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.sandbox.bank.storage import operations
from ewallet.security.context import SecurityContext
from tests.counter.conftest import Counter, Staffer
from tests.fixtures.accounts import PIN, TestUser, assert_problem, fast, make_app
from tests.fixtures.cards import bind
from tests.fixtures.funding import BANK_GIVE_UP_SECONDS, Funding, warm_sandbox_bank
from tests.fixtures.serving import serving

from .helpers import install, rule

SECOND = timedelta(seconds=1)
DECLINING = next(card for card in TEST_CARDS if card.bank_code == "COMM")  # declines debits


@pytest.fixture
async def funding(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Funding]:
    quick = fast(settings).model_copy(update={"bank_timeout_seconds": BANK_GIVE_UP_SECONDS})
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield Funding(engine, quick, clock, security, client, app_services(app), app)


async def bank_operations(f: Funding) -> int:
    """Every debit, credit and payout request the sandbox bank received (declines too)."""
    assert f.app is not None
    bank = sandbox_bank_of(f.app.state.sandbox_bank)
    async with bank.store.reading() as conn:
        return int(await conn.scalar(select(func.count()).select_from(operations)) or 0)


_KEYS = itertools.count()


async def card_top_up(f: Funding, user: TestUser, card_id: str, amount: str) -> httpx.Response:
    return await f.client.post(
        "/v1/topups",
        json={"method": "card", "card_id": card_id, "amount": amount, "payment_password": PIN},
        headers=f.auth(user, **{"Idempotency-Key": f"card-{next(_KEYS)}"}),
    )


async def rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(table).where(*where))).all())


async def test_card_testing_blocks_from_the_third_failure_in_the_hour_before_the_bank(
    funding: Funding,
) -> None:
    f = funding
    user = await f.user(pin=PIN)
    card_id = str((await bind(f, user, DECLINING))["id"])
    start = f.clock.now()
    assert_problem(await card_top_up(f, user, card_id, "5.00"), 402, "bank_declined")
    f.clock.advance(timedelta(minutes=10))
    assert_problem(await card_top_up(f, user, card_id, "5.00"), 402, "bank_declined")
    # Two failures in the hour: the third attempt still reaches the bank (and fails too).
    asked = await bank_operations(f)
    assert_problem(await card_top_up(f, user, card_id, "5.00"), 402, "bank_declined")
    assert await bank_operations(f) == asked + 1
    # Three failures: refused before the bank is asked; no top-up recorded, nothing moved.
    asked, recorded = await bank_operations(f), len(await f.topup_rows(user))
    assert_problem(await card_top_up(f, user, card_id, "99.99"), 403, "risk_declined")
    assert await bank_operations(f) == asked
    assert len(await f.topup_rows(user)) == recorded == 3
    assert await f.balance(user) == Decimal("0.00")
    # The first failure exactly an hour old still counts; a second later it does not, and
    # the two failures left in the window let the top-up through to the bank.
    f.clock.set(start + timedelta(hours=1))
    assert_problem(await card_top_up(f, user, card_id, "5.00"), 403, "risk_declined")
    f.clock.set(start + timedelta(hours=1) + SECOND)
    asked = await bank_operations(f)
    assert_problem(await card_top_up(f, user, card_id, "5.00"), 402, "bank_declined")
    assert await bank_operations(f) == asked + 1
    # Three failures again: a large top-up (the tester's cash-out) is refused as well.
    assert_problem(await card_top_up(f, user, card_id, "3000.00"), 403, "risk_declined")
    assert await bank_operations(f) == asked + 1
    blocked = await rows(f.engine, risk_decisions, risk_decisions.c.verdict == "block")
    assert (
        sorted((row.event, row.features["failed_card_topups_1h"]) for row in blocked)
        == [("card_topup", 3)] * 3
    )
    assert [fired["name"] for row in blocked for fired in row.fired] == ["card-testing"] * 3


async def test_a_blocked_psp_top_up_opens_no_order_and_a_freezing_block_freezes(
    funding: Funding,
) -> None:
    f = funding
    user = await f.user()
    await install(
        f,
        rule(
            "big-psp",
            "amount >= 1000",
            RuleAction.BLOCK,
            events=("psp_topup",),
            freeze_account=True,
        ),
    )
    trades = len(f.alipay.trades)
    small = await f.start(user, "alipay", "999.99")
    assert small.status_code == 201, small.text
    assert len(f.alipay.trades) == trades + 1
    assert_problem(await f.start(user, "alipay", "1000.00"), 403, "risk_declined")
    assert len(f.alipay.trades) == trades + 1  # no order opened
    assert len(await f.topup_rows(user)) == 1  # no top-up recorded
    [frozen] = await rows(f.engine, users, users.c.id == user.id)
    assert (frozen.status, frozen.frozen_by) == ("frozen", "risk")
    assert "account_frozen" in await f.kinds(user)
    decided = await rows(f.engine, risk_decisions, risk_decisions.c.event == "psp_topup")
    assert sorted(row.verdict for row in decided) == ["allow", "block"]


async def test_a_challenge_or_a_review_on_money_in_is_recorded_and_the_money_comes_in(
    counter: Counter,
) -> None:
    h = counter
    user = await h.user(phone="+8613800002222")
    teller = await h.staffer("teller")
    await install(
        h,
        rule("odd-cash", "amount >= 300", RuleAction.REVIEW, events=("counter_deposit",)),
        rule("some-cash", "amount >= 200", RuleAction.CHALLENGE, events=("counter_deposit",)),
    )
    for receipt, amount in (("R-1", "300.00"), ("R-2", "200.00")):
        response = await h.deposit(teller, user.phone, amount, receipt)
        assert response.status_code == 201, response.text
        assert response.json()["deposit"]["status"] == "completed"
    assert await h.balance(user) == 500_00
    decided = await rows(h.engine, risk_decisions, risk_decisions.c.event == "counter_deposit")
    assert sorted(row.verdict for row in decided) == ["challenge", "review"]


async def deposit(h: Counter, teller: Staffer, user: TestUser, amount: str, receipt: str) -> str:
    response = await h.deposit(teller, user.phone, amount, receipt)
    assert response.status_code == 201, response.text
    deposit_id: str = response.json()["deposit"]["id"]
    return deposit_id


async def structuring_reports(h: Counter, user: TestUser) -> list[Any]:
    return await rows(
        h.engine,
        aml_report_candidates,
        aml_report_candidates.c.subject_id == user.id,
        aml_report_candidates.c.rule_name == "structuring",
    )


async def test_structuring_reports_the_third_deposit_just_under_the_threshold_in_a_week(
    counter: Counter,
) -> None:
    h = counter
    teller = await h.staffer("teller")
    early = await h.user(phone="+8613800003331")  # its first deposit leaves the week
    on_time = await h.user(phone="+8613800003332")  # its first deposit is a week old exactly
    start = h.clock.now()
    for user in (early, on_time):
        await deposit(h, teller, user, "45000.00", f"R-{user.phone[-1]}-1")
    h.clock.advance(timedelta(hours=1))
    teller = await h.staffer("teller")  # the access token of an hour ago has expired
    for user in (early, on_time):
        await deposit(h, teller, user, "49999.99", f"R-{user.phone[-1]}-2")
    # One earlier near-threshold deposit in the week is no pattern yet.
    assert await structuring_reports(h, early) == []
    h.clock.set(start + timedelta(days=7))
    teller = await h.staffer("teller")
    third = await deposit(h, teller, on_time, "47000.00", "R-2-3")
    h.clock.set(start + timedelta(days=7) + SECOND)
    await deposit(h, teller, early, "47000.00", "R-1-3")
    assert await structuring_reports(h, early) == []
    # The cash went in, and compliance has a report candidate naming the deposit.
    [report] = await structuring_reports(h, on_time)
    assert report.kind == "suspicious"
    assert report.transaction_refs == [f"counter_deposit:{third}"]
    assert await h.balance(on_time) == 45000_00 + 49999_99 + 47000_00
    [decision] = await rows(
        h.engine, risk_decisions, risk_decisions.c.reference == f"counter_deposit:{third}"
    )
    assert decision.verdict == "allow"
    assert decision.features["counter_deposits_near_threshold_7d"] == 2
    assert [(fired["name"], fired["action"]) for fired in decision.fired] == [
        ("structuring", "report")
    ]


async def test_structuring_takes_only_amounts_just_under_the_threshold(counter: Counter) -> None:
    h = counter
    teller = await h.staffer("teller")
    user = await h.user(phone="+8613800004444")
    await deposit(h, teller, user, "45000.00", "R-1")
    await deposit(h, teller, user, "46000.00", "R-2")
    await deposit(h, teller, user, "44999.99", "R-3")  # under 90 % of the threshold
    assert await structuring_reports(h, user) == []
    large = await h.deposit(teller, user.phone, "50000.00", "R-4")  # a large-cash record
    assert large.status_code == 201, large.text
    assert await structuring_reports(h, user) == []
    await deposit(h, teller, user, "45000.00", "R-5")
    [report] = await structuring_reports(h, user)
    assert len(report.transaction_refs) == 1
