"""Paying a bill from a bound card, or the balance plus the card (docs/bills.md, "Paying
with a card"): the split is exact and the biller credited once, a decline leaves nothing,
an unknown answer is settled once by the job, a retry never debits twice, the card's daily
cap counts orders and bills together, another user's card is not found, and a biller's
refusal after the debit leaves the money in the wallet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.bills.card_funding.jobs import (
    BillCardSettleReport,
    settle_pending_bill_card_payments,
)
from ewallet.config import Settings
from ewallet.funding.topups.card.jobs import settle_pending_topups
from ewallet.http.deps import app_services
from ewallet.integrations.bank.port import OperationStatus
from ewallet.kit.clock import FrozenClock
from ewallet.ledger import chart
from ewallet.ledger.verify import verify_ledger
from ewallet.models.tables import bill_payments, ledger_holds, spend_records, topups
from ewallet.payments.card_funding.jobs import settle_pending_card_payments
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.sandbox.biller import SandboxBiller, sandbox_biller_of
from ewallet.security.context import SecurityContext
from tests.bills.conftest import ACCOUNTS
from tests.fixtures.accounts import PIN, assert_problem, make_app
from tests.fixtures.cards import bind
from tests.fixtures.funding import BANK_GIVE_UP_SECONDS, warm_sandbox_bank
from tests.fixtures.serving import serving
from tests.fixtures.shop import Shop, TestUser, shop_settings

ICBC = TEST_CARDS[0]


@dataclass
class CardBills(Shop):
    """The shop harness (orders, merchants, funded customers) with the sandbox biller."""

    @property
    def biller(self) -> SandboxBiller:
        assert self.app is not None
        return sandbox_biller_of(self.app.state.sandbox_biller)

    async def pay_bill(
        self,
        user: TestUser,
        amount: str,
        source: str | None,
        card_id: str | None,
        *,
        account: str = ACCOUNTS["due"],
        key: str | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "biller_id": "sgcc_bj",
            "account_no": account,
            "amount": amount,
            "payment_password": PIN,
        }
        if source is not None:
            body["funding"] = {"source": source}
            if card_id is not None:
                body["funding"]["card_id"] = card_id
        headers = self.auth(user, **{"Idempotency-Key": key or f"bill-{user.id}-{amount}"})
        return await self.client.post("/v1/bill-payments", json=body, headers=headers)

    async def payable(self) -> int:
        return await self.posted(chart.biller_payable("sgcc_bj").code)

    async def wallet_row(self, user: TestUser) -> tuple[int, int]:
        """The wallet's posted balance and what is on holds."""
        account = await self.ledger.account_by_code(f"wallet:{user.id}:CNY")
        assert account is not None
        return account.posted, account.pending_debits

    async def suspense(self) -> int:
        account = await self.ledger.account_by_code("suspense:CNY")
        return 0 if account is None else account.posted

    async def bank_debits(self, user: TestUser) -> list[int]:
        """The amounts (fen) the bank's settlement file shows debited for the user's top-ups."""
        async with self.engine.connect() as conn:
            query = select(topups.c.id).where(topups.c.user_id == user.id)
            ids = set((await conn.execute(query)).scalars())
        day = (self.clock.now() + timedelta(hours=8)).date()
        rows = await self.services.bank.settlement(day)
        return [row.amount.minor for row in rows if row.request_id.removeprefix("topup:") in ids]

    async def bill_rows(self, user: TestUser) -> list[Any]:
        async with self.engine.connect() as conn:
            query = select(bill_payments).where(bill_payments.c.user_id == user.id)
            return list(await conn.execute(query))

    async def everything(self, user: TestUser) -> dict[str, Any]:
        """What a refused payment must leave as it was."""
        async with self.engine.connect() as conn:
            counts = {
                table.name: await conn.scalar(select(func.count()).select_from(table))
                for table in (bill_payments, spend_records, topups, ledger_holds)
            }
        return {
            **counts,
            "person": await self.snapshot(user),
            # Accounts opened (empty) before a unit that then refused are no change.
            "ledger": [row for row in await self._balances() if row[1:] != (0, 0, 0)],
            "biller": await self.biller.count_payments(),
        }

    async def settle(self) -> BillCardSettleReport:
        return await settle_pending_bill_card_payments(self.services)


@pytest.fixture
async def bills(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[CardBills]:
    quick = shop_settings(
        settings,
        bank_timeout_seconds=BANK_GIVE_UP_SECONDS,
        card_payment_daily_limit_minor=500_00,
        biller_timeout_seconds=1.5,
        bill_delivery_retry_seconds=30.0,
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield CardBills(engine, quick, clock, security, client, app_services(app), app)


async def card_customer(bills: CardBills, phone: str, funds: str) -> tuple[TestUser, str]:
    user = await bills.customer(phone, funds)
    card = await bind(bills, user, ICBC)
    return user, str(card["id"])


async def test_balance_and_card_pays_the_bill_once_with_an_exact_split(bills: CardBills) -> None:
    user, card_id = await card_customer(bills, "+8613900001701", "30.00")
    response = await bills.pay_bill(user, "100.00", "balance_and_card", card_id)
    assert response.status_code == 201, response.text
    payment = response.json()["bill_payment"]
    assert payment["status"] == "succeeded"
    assert payment["funding"] == {
        "source": "balance_and_card",
        "balance": {"amount": "30.00", "currency": "CNY"},
        "card": {"amount": "70.00", "currency": "CNY"},
        "card_id": card_id,
        "card_status": "debited",
    }
    assert await bills.wallet_row(user) == (0, 0)  # the balance spent, no hold left
    assert await bills.bank_debits(user) == [70_00]  # the card debited once, for the rest
    assert await bills.payable() == 100_00  # the biller credited once, the whole bill
    recorded = await bills.biller.recorded(payment["id"])
    assert recorded is not None
    assert (recorded["amount_fen"], recorded["notifications"]) == (100_00, 1)
    kinds = await bills.kinds(user)
    assert "bill_paid" in kinds
    assert "topup_succeeded" not in kinds  # the top-up that funded it says nothing itself
    read = await bills.client.get(f"/v1/bill-payments/{payment['id']}", headers=bills.auth(user))
    assert read.json()["bill_payment"] == payment
    receipt = await bills.client.get(
        f"/v1/bill-payments/{payment['id']}/receipt", headers=bills.auth(user)
    )
    assert receipt.json()["funding"] == payment["funding"]
    pdf = await bills.client.get(
        f"/v1/bill-payments/{payment['id']}/receipt",
        params={"format": "pdf"},
        headers=bills.auth(user),
    )
    assert pdf.content.startswith(b"%PDF")
    # The same request again answers the same payment; the card is not debited again.
    again = await bills.pay_bill(user, "100.00", "balance_and_card", card_id)
    assert again.json() == response.json()
    assert await bills.bank_debits(user) == [70_00]
    assert (await bills.settle()).examined == 0
    assert (await verify_ledger(bills.engine)).clean


async def test_all_from_the_card_leaves_the_balance(bills: CardBills) -> None:
    user, card_id = await card_customer(bills, "+8613900001702", "50.00")
    response = await bills.pay_bill(user, "20.00", "card", card_id)
    assert response.status_code == 201, response.text
    funding = response.json()["bill_payment"]["funding"]
    assert (funding["balance"]["amount"], funding["card"]["amount"]) == ("0.00", "20.00")
    assert await bills.wallet_row(user) == (50_00, 0)
    assert await bills.bank_debits(user) == [20_00]
    assert await bills.payable() == 20_00
    assert (await verify_ledger(bills.engine)).clean


async def test_a_balance_that_covers_it_is_an_ordinary_payment(bills: CardBills) -> None:
    user, card_id = await card_customer(bills, "+8613900001703", "50.00")
    response = await bills.pay_bill(user, "20.00", "balance_and_card", card_id)
    assert response.status_code == 201, response.text
    assert response.json()["bill_payment"]["funding"] is None
    assert await bills.wallet_row(user) == (30_00, 0)
    assert await bills.bank_debits(user) == []
    plain = await bills.pay_bill(user, "10.00", None, None)  # no funding: the balance
    assert plain.status_code == 201, plain.text
    assert plain.json()["bill_payment"]["funding"] is None


async def test_a_bank_decline_leaves_nothing(bills: CardBills) -> None:
    user, card_id = await card_customer(bills, "+8613900001704", "10.00")
    response = await bills.pay_bill(user, "30.53", "balance_and_card", card_id)  # card 20.53
    assert_problem(response, 402, "bank_declined")
    assert await bills.wallet_row(user) == (10_00, 0)  # untouched, no hold left
    assert await bills.bank_debits(user) == []
    assert await bills.payable() == 0
    assert await bills.biller.count_payments() == 0
    assert await bills.suspense() == 0
    (row,) = await bills.bill_rows(user)
    assert (row.status, row.card_status, row.ledger_transaction_id) == (
        "rejected",
        "declined",
        None,
    )
    assert row.request_key is None
    assert response.json()["bill_payment_id"] == row.id
    async with bills.engine.connect() as conn:
        (record,) = await conn.execute(
            select(spend_records).where(spend_records.c.user_id == user.id)
        )
        (topup,) = await conn.execute(select(topups).where(topups.c.user_id == user.id))
    assert record.released_at is not None  # the day's limits no longer count it
    assert topup.status == "failed"
    # The card's daily cap does not count it either: the whole cap is still there.
    full = await bills.pay_bill(user, "500.00", "card", card_id, key="whole-cap")
    assert full.status_code == 201, full.text
    assert (await verify_ledger(bills.engine)).clean


async def test_an_unknown_answer_is_pending_then_settled_once(bills: CardBills) -> None:
    user, card_id = await card_customer(bills, "+8613900001705", "10.00")
    response = await bills.pay_bill(user, "30.52", "balance_and_card", card_id)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["code"], body["bill_payment"]["status"]) == ("operation_pending", "pending")
    assert body["bill_payment"]["funding"]["card_status"] == "pending"
    payment_id = body["bill_payment"]["id"]
    assert await bills.wallet_row(user) == (10_00, 10_00)  # the balance part on hold
    assert await bills.suspense() == -20_52
    assert await bills.biller.count_payments() == 0  # the biller is not told yet
    # A rerun of the same request answers the same payment: no second debit.
    again = await bills.pay_bill(user, "30.52", "balance_and_card", card_id)
    assert again.status_code == 202
    assert again.json()["bill_payment"]["id"] == payment_id
    # Neither the top-ups' job nor the orders' card payments job touches it.
    assert (await settle_pending_topups(bills.services)).examined == 0
    assert (await settle_pending_card_payments(bills.services)).examined == 0
    first = await bills.settle()
    second = await bills.settle()
    assert (first.paid, second.examined) == ([payment_id], 0)
    assert await bills.bank_debits(user) == [20_52]
    assert await bills.wallet_row(user) == (0, 0)
    assert await bills.suspense() == 0
    assert await bills.payable() == 30_52
    recorded = await bills.biller.recorded(payment_id)
    assert recorded is not None
    assert recorded["notifications"] == 1
    read = await bills.client.get(f"/v1/bill-payments/{payment_id}", headers=bills.auth(user))
    assert read.json()["bill_payment"]["status"] == "succeeded"
    assert read.json()["bill_payment"]["funding"]["card_status"] == "debited"
    assert (await verify_ledger(bills.engine)).clean


async def test_a_debit_the_bank_never_saw_is_released_after_the_grace(bills: CardBills) -> None:
    user, card_id = await card_customer(bills, "+8613900001706", "10.00")
    response = await bills.pay_bill(user, "30.51", "balance_and_card", card_id)  # times out
    assert response.status_code == 202, response.text
    payment_id = response.json()["bill_payment"]["id"]
    assert (await bills.settle()).still_pending == [payment_id]
    bills.clock.advance(timedelta(minutes=31))
    assert (await bills.settle()).released == [payment_id]
    assert (await bills.settle()).examined == 0
    assert await bills.wallet_row(user) == (10_00, 0)
    assert await bills.suspense() == 0
    assert await bills.bank_debits(user) == []
    assert await bills.payable() == 0
    assert "bill_card_declined" in await bills.kinds(user)
    read = await bills.client.get(f"/v1/bill-payments/{payment_id}", headers=bills.auth(user))
    assert read.json()["bill_payment"]["status"] == "rejected"
    assert read.json()["bill_payment"]["funding"]["card_status"] == "declined"
    assert (await verify_ledger(bills.engine)).clean


async def test_a_pending_payment_the_bank_then_declines_is_released_once(
    bills: CardBills, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, card_id = await card_customer(bills, "+8613900001707", "10.00")
    response = await bills.pay_bill(user, "30.51", "balance_and_card", card_id)
    assert response.status_code == 202, response.text
    payment_id = response.json()["bill_payment"]["id"]

    async def declined(*, request_id: str) -> OperationStatus:
        return OperationStatus(request_id=request_id, status="declined", reason="do_not_honor")

    monkeypatch.setattr(bills.services.bank, "query", declined)
    first, second = await bills.settle(), await bills.settle()
    assert (first.released, second.examined) == ([payment_id], 0)
    assert await bills.wallet_row(user) == (10_00, 0)
    assert await bills.suspense() == 0
    assert await bills.payable() == 0
    (row,) = await bills.bill_rows(user)
    assert (row.status, row.card_status) == ("rejected", "declined")
    assert (await verify_ledger(bills.engine)).clean


async def test_the_card_daily_cap_counts_orders_and_bills_together(bills: CardBills) -> None:
    # The cap is 500.00 a day here.
    merchant = await bills.merchant()
    user, card_id = await card_customer(bills, "+8613900001708", "0.00")
    order_id = await bills.order(merchant, "300.00", out_trade_no="CAP-B1")
    paid = await bills.client.post(
        "/v1/payments",
        json={
            "order_id": order_id,
            "payment_password": PIN,
            "funding": {"source": "card", "card_id": card_id},
        },
        headers=bills.auth(user, **{"Idempotency-Key": "cap-order"}),
    )
    assert paid.status_code == 201, paid.text
    before = await bills.everything(user)
    refused = await bills.pay_bill(user, "200.01", "card", card_id)
    assert_problem(refused, 403, "limit_exceeded")
    assert refused.json()["limit"] == "card_payment_daily"
    assert refused.json()["remaining"] == {"amount": "200.00", "currency": "CNY"}
    assert await bills.everything(user) == before  # nothing at all changed
    assert (await bills.pay_bill(user, "200.00", "card", card_id)).status_code == 201
    # The bill's card part counts for an order too: nothing is left today.
    second = await bills.order(merchant, "0.10", out_trade_no="CAP-B2")
    over = await bills.client.post(
        "/v1/payments",
        json={
            "order_id": second,
            "payment_password": PIN,
            "funding": {"source": "card", "card_id": card_id},
        },
        headers=bills.auth(user, **{"Idempotency-Key": "cap-order-2"}),
    )
    assert_problem(over, 403, "limit_exceeded")
    assert await bills.bank_debits(user) == [300_00, 200_00]


async def test_another_users_card_is_not_found_and_nothing_moves(bills: CardBills) -> None:
    owner, card_id = await card_customer(bills, "+8613900001709", "0.00")
    thief = await bills.customer("+8613900001710", "5.00")
    before = await bills.everything(thief)
    response = await bills.pay_bill(thief, "20.00", "balance_and_card", card_id)
    assert_problem(response, 404, "not_found")
    assert await bills.everything(thief) == before
    assert await bills.bank_debits(owner) == []
    # And a card bill payment is its payer's only.
    paid = await bills.pay_bill(owner, "20.00", "card", card_id)
    assert paid.status_code == 201, paid.text
    path = f"/v1/bill-payments/{paid.json()['bill_payment']['id']}"
    assert_problem(await bills.client.get(path, headers=bills.auth(thief)), 404, "not_found")
    assert_problem(await bills.client.get(path), 401, "unauthorized")


async def test_a_card_source_needs_a_card(bills: CardBills) -> None:
    user, _card_id = await card_customer(bills, "+8613900001711", "0.00")
    before = await bills.everything(user)
    no_card = await bills.pay_bill(user, "20.00", "card", None)
    assert_problem(no_card, 422, "validation_error")
    assert await bills.everything(user) == before


async def test_a_biller_refusal_after_the_debit_keeps_the_money_in_the_wallet(
    bills: CardBills,
) -> None:
    user, card_id = await card_customer(bills, "+8613900001712", "10.00")
    response = await bills.pay_bill(
        user, "30.00", "balance_and_card", card_id, account=ACCOUNTS["reject"]
    )
    assert_problem(response, 402, "biller_declined")
    payment_id = response.json()["bill_payment_id"]
    # Never lost: the balance back and the card's 20.00 in the wallet, the biller unpaid.
    assert await bills.wallet_row(user) == (30_00, 0)
    assert await bills.bank_debits(user) == [20_00]
    assert await bills.payable() == 0
    assert "bill_payment_failed" in await bills.kinds(user)
    read = await bills.client.get(f"/v1/bill-payments/{payment_id}", headers=bills.auth(user))
    shown = read.json()["bill_payment"]
    assert (shown["status"], shown["funding"]["card_status"]) == ("failed", "debited")
    assert (await verify_ledger(bills.engine)).clean
