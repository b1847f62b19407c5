"""Payment-code charges funded by a bound card (docs/payment-code.md, "Funding"): the
user's source setting (``/v1/me/payment-code/funding``, signed-in only, the user's own
active card only); a charge above the balance waits for the PIN and is paid from the
balance then the card, the sum exact and the card debited once; a decline leaves nothing;
the source ``card`` pays it all from the card; an unknown bank answer is finished by the
settle job; the card's daily cap holds at its boundary for charges too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.ledger.verify import verify_ledger
from ewallet.merchants.views import NewMerchant
from ewallet.models.tables import audit_events, payment_code_funding, topups
from ewallet.payments.card_funding.jobs import settle_pending_card_payments
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import assert_problem, make_app
from tests.fixtures.cards import bind
from tests.fixtures.funding import BANK_GIVE_UP_SECONDS, warm_sandbox_bank
from tests.fixtures.payment_codes import charge as charge_code
from tests.fixtures.payment_codes import code_charges, confirm, show_code
from tests.fixtures.serving import serving
from tests.fixtures.shop import Shop, TestUser, payments, shop_settings

FUNDING = "/v1/me/payment-code/funding"
ICBC = TEST_CARDS[0]


@pytest.fixture
async def card_shop(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Shop]:
    quick = shop_settings(
        settings, bank_timeout_seconds=BANK_GIVE_UP_SECONDS, card_payment_daily_limit_minor=500_00
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield Shop(engine, quick, clock, security, client, app_services(app), app)


async def card_customer(shop: Shop, phone: str, funds: str) -> tuple[TestUser, str]:
    user = await shop.customer(phone, funds)
    card = await bind(shop, user, ICBC)
    return user, str(card["id"])


async def bank_debits(shop: Shop, user: TestUser) -> list[int]:
    """The amounts (fen) the bank's settlement file shows debited for the user's top-ups."""
    async with shop.engine.connect() as conn:
        query = select(topups.c.id).where(topups.c.user_id == user.id)
        ids = {row.id for row in await conn.execute(query)}
    day = (shop.clock.now() + timedelta(hours=8)).date()
    rows = await shop.services.bank.settlement(day)
    return [row.amount.minor for row in rows if row.request_id.removeprefix("topup:") in ids]


async def wallet_row(shop: Shop, user: TestUser) -> tuple[int, int]:
    """The wallet's posted balance and what is on holds."""
    account = await shop.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert account is not None
    return account.posted, account.pending_debits


async def pending_charge(
    shop: Shop, merchant: NewMerchant, user: TestUser, amount: str, number: str
) -> str:
    """Charge ``amount`` with the user's code: it waits for the PIN (its challenge id)."""
    code = await show_code(shop, user)
    response = await charge_code(shop, merchant, code, amount, out_trade_no=number)
    body = assert_problem(response, 401, "step_up_required")
    assert body["methods"] == ["payment_password"]
    return str(body["challenge_id"])


async def charge_row(shop: Shop, challenge_id: str) -> Any:
    async with shop.engine.connect() as conn:
        query = select(code_charges).where(code_charges.c.id == challenge_id)
        return (await conn.execute(query)).one()


async def put_funding(shop: Shop, user: TestUser, **body: Any) -> httpx.Response:
    return await shop.client.put(FUNDING, json=body, headers=shop.auth(user))


async def test_the_setting_is_the_signed_in_users_own(card_shop: Shop) -> None:
    shop = card_shop
    user, card_id = await card_customer(shop, "+8613900001701", "0.00")
    other, other_card = await card_customer(shop, "+8613900001702", "0.00")
    assert_problem(await shop.client.get(FUNDING), 401, "unauthorized")
    signed_out = await shop.client.put(FUNDING, json={"source": "card", "card_id": card_id})
    assert_problem(signed_out, 401, "unauthorized")
    shown = await shop.client.get(FUNDING, headers=shop.auth(user))
    assert shown.status_code == 200, shown.text
    assert shown.json()["source"] == "balance_first"  # the default: the default card
    assert (shown.json()["card_id"], shown.json()["card"]["id"]) == (None, card_id)
    assert_problem(await put_funding(shop, user, source="card"), 422, "validation_error")
    stolen = await put_funding(shop, user, source="card", card_id=other_card)
    assert_problem(stolen, 404, "not_found")
    async with shop.engine.connect() as conn:
        assert list(await conn.execute(select(payment_code_funding))) == []
    chosen = await put_funding(shop, user, source="card", card_id=card_id)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["card"]["last_four"] == ICBC.number[-4:]
    read = await shop.client.get(FUNDING, headers=shop.auth(user))
    assert read.json() == chosen.json()
    # The other user's setting is untouched.
    theirs = await shop.client.get(FUNDING, headers=shop.auth(other))
    assert (theirs.json()["source"], theirs.json()["card"]["id"]) == ("balance_first", other_card)
    async with shop.engine.connect() as conn:
        query = select(audit_events.c.action).where(
            audit_events.c.action == "payment_code.funding_changed"
        )
        assert len(list(await conn.execute(query))) == 1


async def test_a_charge_above_the_balance_takes_the_balance_then_the_card(
    card_shop: Shop,
) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001703", "30.00")
    challenge_id = await pending_charge(shop, merchant, user, "100.00", "PC-CARD-1")
    assert await wallet_row(shop, user) == (30_00, 0)  # nothing moved before the PIN
    assert await bank_debits(shop, user) == []
    done = await confirm(shop, user, challenge_id, key="card-confirm-1")
    assert done.status_code == 201, done.text
    payment = done.json()["payment"]
    assert payment["funding"] == {
        "source": "balance_and_card",
        "balance": {"amount": "30.00", "currency": "CNY"},
        "card": {"amount": "70.00", "currency": "CNY"},
        "card_id": card_id,
    }
    assert await wallet_row(shop, user) == (0, 0)
    assert await bank_debits(shop, user) == [70_00]  # once, for the rest
    assert await shop.merchant_balance(merchant) == 100_00 - 38  # one entry, net of the fee
    row = await charge_row(shop, challenge_id)
    assert (row.status, row.payment_id) == ("succeeded", payment["id"])
    seen = await shop.client.get(
        f"/v1/merchant/orders/{payment['order_id']}", headers=shop.key(merchant)
    )
    assert seen.json()["order"]["status"] == "paid"
    # The same confirmation again answers the same payment; the card is not debited again.
    again = await confirm(shop, user, challenge_id, key="card-confirm-1")
    assert again.json() == done.json()
    # Another confirmation (a new key) finds the charge paid.
    assert_problem(await confirm(shop, user, challenge_id, key="k2"), 409, "order_not_payable")
    assert await bank_debits(shop, user) == [70_00]
    assert await shop.count(payments, payments.c.user_id == user.id) == 1
    assert (await verify_ledger(shop.engine)).clean


async def test_a_declined_card_leaves_nothing(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, _ = await card_customer(shop, "+8613900001704", "10.00")
    challenge_id = await pending_charge(
        shop, merchant, user, "30.53", "PC-DECLINE"
    )  # 20.53: declined
    refused = await confirm(shop, user, challenge_id)
    assert_problem(refused, 402, "bank_declined")
    assert await wallet_row(shop, user) == (10_00, 0)  # untouched, no hold left
    assert await bank_debits(shop, user) == []
    assert await shop.merchant_balance(merchant) == 0
    assert await shop.count(payments, payments.c.user_id == user.id) == 0
    row = await charge_row(shop, challenge_id)
    assert (row.status, row.payment_id) == ("pending", None)  # until it expires
    order = await shop.order_row(row.order_id)
    assert (order.status, order.reserved_by) == ("awaiting_payment", None)
    assert (await verify_ledger(shop.engine)).clean


async def test_the_card_source_pays_it_all_from_the_card(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001705", "50.00")
    assert (await put_funding(shop, user, source="card", card_id=card_id)).status_code == 200
    # Even within the balance and the no-PIN limits: a card is never debited without it.
    challenge_id = await pending_charge(shop, merchant, user, "20.00", "PC-ALLCARD")
    done = await confirm(shop, user, challenge_id)
    assert done.status_code == 201, done.text
    assert done.json()["payment"]["funding"]["balance"]["amount"] == "0.00"
    assert await wallet_row(shop, user) == (50_00, 0)
    assert await bank_debits(shop, user) == [20_00]
    assert await shop.merchant_balance(merchant) == 20_00 - 8
    assert (await verify_ledger(shop.engine)).clean


async def test_without_a_card_a_short_balance_is_refused_as_before(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user = await shop.customer("+8613900001706", "10.00")
    code = await show_code(shop, user)
    refused = await charge_code(shop, merchant, code, "10.01", out_trade_no="PC-NOCARD")
    assert_problem(refused, 402, "insufficient_balance")
    assert await shop.count(code_charges) == 0
    assert await shop.wallet(user) == 10_00


async def test_an_unknown_answer_is_pending_then_the_job_pays_the_charge(
    card_shop: Shop,
) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, _ = await card_customer(shop, "+8613900001707", "10.00")
    challenge_id = await pending_charge(
        shop, merchant, user, "30.52", "PC-UNKNOWN"
    )  # 20.52: bank errs
    response = await confirm(shop, user, challenge_id)
    assert response.status_code == 202, response.text
    assert response.json()["payment"]["status"] == "pending"
    assert await wallet_row(shop, user) == (10_00, 10_00)  # the balance part on hold
    report = await settle_pending_card_payments(shop.services)
    assert report.paid == [response.json()["payment"]["id"]]
    assert await wallet_row(shop, user) == (0, 0)
    assert await bank_debits(shop, user) == [20_52]
    assert await shop.merchant_balance(merchant) == 30_52 - 12
    row = await charge_row(shop, challenge_id)
    seen = await shop.client.get(f"/v1/merchant/orders/{row.order_id}", headers=shop.key(merchant))
    assert seen.json()["order"]["status"] == "paid"
    assert (await settle_pending_card_payments(shop.services)).examined == 0
    assert (await verify_ledger(shop.engine)).clean


async def test_the_card_daily_cap_holds_for_charges(card_shop: Shop) -> None:
    shop = card_shop  # the cap is 500.00 a day here
    merchant = await shop.merchant()
    user, _ = await card_customer(shop, "+8613900001708", "0.00")
    first = await pending_charge(shop, merchant, user, "500.00", "PC-CAP-1")
    assert (await confirm(shop, user, first)).status_code == 201
    over = await pending_charge(shop, merchant, user, "0.01", "PC-CAP-2")
    refused = await confirm(shop, user, over)
    assert_problem(refused, 403, "limit_exceeded")
    assert refused.json()["limit"] == "card_payment_daily"
    assert await bank_debits(shop, user) == [500_00]
    assert (await charge_row(shop, over)).status == "pending"
    assert (await verify_ledger(shop.engine)).clean
