"""``POST /v1/topups`` with ``method: card``: one debit at the bank per top-up, ever;
an unclear answer stays pending until ``settle_pending_topups`` learns the bank's answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.funding.topups.card.jobs import SettleReport, settle_pending_topups
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.ledger import Ledger
from ewallet.ledger.verify import verify_ledger
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import PIN, TestUser, assert_problem, fast, make_app, users
from tests.fixtures.cards import bind
from tests.fixtures.funding import BANK_GIVE_UP_SECONDS, Funding, warm_sandbox_bank
from tests.fixtures.serving import serving

ICBC = TEST_CARDS[0]
COMM_DECLINES = next(card for card in TEST_CARDS if card.bank_code == "COMM")
PSBC_POOR = next(card for card in TEST_CARDS if card.bank_code == "PSBC")


@pytest.fixture
async def card_funding(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Funding]:
    quick = fast(settings).model_copy(update={"bank_timeout_seconds": BANK_GIVE_UP_SECONDS})
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield Funding(engine, quick, clock, security, client, app_services(app), app)


async def suspense_balance(f: Funding) -> int:
    account = await Ledger(f.engine, clock=f.clock).account_by_code("suspense:CNY")
    return 0 if account is None else account.posted


async def card_user(
    f: Funding, card: Any = ICBC, phone: str = "+8613812345678"
) -> tuple[TestUser, str]:
    user = await f.user(pin=PIN, phone=phone)
    bound = await bind(f, user, card)
    return user, str(bound["id"])


async def top_up(
    f: Funding, user: TestUser, card_id: str, amount: str, *, key: str | None = None, pin: str = PIN
) -> httpx.Response:
    return await f.client.post(
        "/v1/topups",
        json={"method": "card", "card_id": card_id, "amount": amount, "payment_password": pin},
        headers=f.auth(user, **{"Idempotency-Key": key or f"card-{amount}"}),
    )


async def settle(f: Funding, **kwargs: Any) -> SettleReport:
    assert f.app is not None
    return await settle_pending_topups(f.services, **kwargs)


async def bank_debits(f: Funding, topup_id: str) -> int:
    """How many movements the bank's settlement file holds for the top-up (Beijing day)."""
    assert f.app is not None
    day = (f.clock.now() + timedelta(hours=8)).date()
    rows = await f.services.bank.settlement(day)
    return sum(1 for row in rows if row.request_id == f"topup:{topup_id}")


async def bank_status(f: Funding, topup_id: str) -> str:
    assert f.app is not None
    answer = await f.services.bank.query(request_id=f"topup:{topup_id}")
    return answer.status


async def test_approved_topup_is_credited_once(card_funding: Funding) -> None:
    f = card_funding
    user, card_id = await card_user(f)
    response = await top_up(f, user, card_id, "100.00")
    assert response.status_code == 201, response.text
    topup = response.json()["topup"]
    assert (topup["method"], topup["status"]) == ("card", "succeeded")
    assert topup["completed_at"] is not None
    assert await f.balance(user) == Decimal("100.00")
    assert await f.kinds(user) == ["topup_succeeded"]
    assert await bank_status(f, topup["id"]) == "succeeded"
    (row,) = await f.topup_rows(user)
    assert (row.card_id, row.ledger_transaction_id is not None) == (card_id, True)
    assert row.provider_reference
    # The same key replays; the settle job has nothing to do.
    again = await top_up(f, user, card_id, "100.00")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == response.json()
    assert (await settle(f)).examined == 0
    assert await f.balance(user) == Decimal("100.00")
    # A new key is a new top-up (documented).
    other = await top_up(f, user, card_id, "100.00", key="second")
    assert other.status_code == 201
    assert await f.balance(user) == Decimal("200.00")
    assert await bank_debits(f, topup["id"]) == 1
    assert (await verify_ledger(f.engine)).clean


@pytest.mark.parametrize(
    ("amount", "card"),
    [("10.53", ICBC), ("10.54", ICBC), ("5.00", COMM_DECLINES), ("50.00", PSBC_POOR)],
)
async def test_declined_topup_is_failed(card_funding: Funding, amount: str, card: Any) -> None:
    f = card_funding
    user, card_id = await card_user(f, card)
    response = await top_up(f, user, card_id, amount)
    assert_problem(response, 402, "bank_declined")
    (row,) = await f.topup_rows(user)
    assert row.status == "failed"
    assert row.failure_reason
    assert await f.balance(user) == Decimal("0.00")
    assert await bank_status(f, row.id) == "declined"
    assert (await settle(f)).examined == 0


async def test_timeout_stays_pending_then_fails_after_grace(card_funding: Funding) -> None:
    f = card_funding
    user, card_id = await card_user(f)
    response = await top_up(f, user, card_id, "20.51")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["code"] == "operation_pending"
    assert body["topup"]["status"] == "pending"
    topup_id = body["topup"]["id"]
    assert await bank_status(f, topup_id) == "not_found"
    assert await suspense_balance(f) == -20_51  # the amount in doubt is carried in suspense
    young = await settle(f)
    assert young.still_pending == [topup_id]
    f.clock.advance(timedelta(minutes=31))
    old = await settle(f)
    assert old.failed == [topup_id]
    (row,) = await f.topup_rows(user)
    assert (row.status, row.failure_reason) == ("failed", "not_found")
    assert await f.balance(user) == Decimal("0.00")
    assert await suspense_balance(f) == 0
    assert await f.kinds(user) == ["topup_failed"]  # the user hears how it ended
    assert (await settle(f)).examined == 0
    assert (await verify_ledger(f.engine)).clean


@pytest.mark.parametrize("amount", ["30.52", "30.56"])
async def test_unclear_answer_is_settled_and_credited_once(
    card_funding: Funding, amount: str
) -> None:
    f = card_funding
    user, card_id = await card_user(f)
    response = await top_up(f, user, card_id, amount)
    assert response.status_code == 202, response.text
    topup_id = response.json()["topup"]["id"]
    assert await f.balance(user) == Decimal("0.00")
    assert await bank_status(f, topup_id) == "succeeded"
    assert await suspense_balance(f) == -int(Decimal(amount) * 100)
    first = await settle(f)
    assert first.credited == [topup_id]
    assert await suspense_balance(f) == 0  # credited out of suspense
    second = await settle(f)
    assert (second.examined, second.credited) == (0, [])
    assert await f.balance(user) == Decimal(amount)
    assert await f.kinds(user) == ["topup_succeeded"]
    done = await f.client.get(f"/v1/topups/{topup_id}", headers=f.auth(user))
    assert done.json()["topup"]["status"] == "succeeded"
    # The replayed request does not debit again.
    again = await top_up(f, user, card_id, amount)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await f.balance(user) == Decimal(amount)
    assert await bank_debits(f, topup_id) == 1
    assert (await verify_ledger(f.engine)).clean


async def test_wrong_pin_does_nothing(card_funding: Funding) -> None:
    f = card_funding
    user, card_id = await card_user(f)
    response = await top_up(f, user, card_id, "10.00", pin="000000")
    assert response.status_code in {400, 401, 403}, response.text
    assert await f.topup_rows(user) == []


async def test_another_users_card_is_not_found(card_funding: Funding) -> None:
    f = card_funding
    _, card_id = await card_user(f)
    other = await f.user(pin=PIN, phone="+8613900000001")
    assert_problem(await top_up(f, other, card_id, "10.00"), 404, "not_found")
    assert_problem(await top_up(f, other, "card_nope", "10.00", key="x"), 404, "not_found")
    assert await f.topup_rows(other) == []


async def test_frozen_account_cannot_top_up(card_funding: Funding) -> None:
    f = card_funding
    user, card_id = await card_user(f)
    async with f.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user.id).values(status="frozen", frozen_by="self")
        )
    assert_problem(await top_up(f, user, card_id, "10.00"), 423, "account_frozen")
    assert await f.topup_rows(user) == []


async def test_card_fields_are_required(card_funding: Funding) -> None:
    f = card_funding
    user = await f.user(pin=PIN)
    response = await f.client.post(
        "/v1/topups",
        json={"method": "card", "amount": "5.00"},
        headers=f.auth(user, **{"Idempotency-Key": "missing"}),
    )
    assert_problem(response, 422, "validation_error")
    assert await f.topup_rows(user) == []
