"""Transfers to another person's bank card through the app and the sandbox bank, over real
HTTP (both databases): the bank's name check refusing with nothing moved, success with the
withdrawals' fee, a decline leaving nothing, an unknown outcome settled once, the delayed
options (cancelled once; arriving once however often its event is delivered), the
idempotent retry, and another user's transfer not found."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from ewallet.funding.withdrawals.card_transfers.jobs import arrive_card_transfer, register
from ewallet.funding.withdrawals.card_transfers.service import ARRIVAL_TOPIC
from ewallet.funding.withdrawals.jobs import settle_pending_withdrawals
from ewallet.ledger.verify import verify_ledger
from ewallet.models.tables import card_transfers, ledger_holds, ledger_transactions, spend_records
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from tests.fixtures.accounts import PIN, TestUser, assert_problem
from tests.fixtures.withdrawals import ICBC, Withdrawing
from tests.settlement.helpers import payouts_at_bank

LI_NA = TEST_CARDS[2]  # approves; the amount's fen part picks a failure (.52, .53 ...)
YANG_LEI = next(card for card in TEST_CARDS if card.holder_name == "杨磊")  # declines
FEES = "fee_revenue:CNY"


async def send(
    h: Withdrawing,
    user: TestUser,
    amount: str,
    *,
    card: Any = LI_NA,
    name: str | None = None,
    arrival: str = "realtime",
    key: str | None = None,
) -> httpx.Response:
    body = {
        "card_number": card.number,
        "payee_name": card.holder_name if name is None else name,
        "amount": amount,
        "payment_password": PIN,
        "arrival": arrival,
    }
    return await h.client.post(
        "/v1/card-transfers",
        json=body,
        headers=h.auth(user, **{"Idempotency-Key": key or f"ct-{amount}-{arrival}"}),
    )


async def counts(h: Withdrawing) -> dict[str, int]:
    async with h.engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (card_transfers, ledger_holds, ledger_transactions, spend_records)
        }


async def test_a_name_the_bank_does_not_know_is_refused_and_nothing_moves(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000011", ICBC, "1000.00")
    before = (await counts(h), await h.kinds(user), await h.balance(user))
    refused = await send(h, user, "100.00", name="李四")
    assert_problem(refused, 422, "payee_name_mismatch")
    assert refused.json()["reason"] == "name_mismatch"
    assert (await counts(h), await h.kinds(user), await h.balance(user)) == before
    assert await payouts_at_bank(h.app) == []
    wrong_digit = LI_NA.number[:-1] + str((int(LI_NA.number[-1]) + 1) % 10)
    invalid = await h.client.post(
        "/v1/card-transfers",
        json={
            "card_number": wrong_digit,
            "payee_name": "李娜",
            "amount": "1.00",
            "payment_password": PIN,
        },
        headers=h.auth(user, **{"Idempotency-Key": "ct-luhn"}),
    )
    assert_problem(invalid, 422, "card_invalid")
    assert await counts(h) == before[0]


async def test_success_pays_the_card_with_the_withdrawal_fee(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000012", ICBC, "1000.00")
    fees_before = await h.posted(FEES)
    preview = await h.client.post(
        "/v1/card-transfers/preview",
        json={"card_number": LI_NA.number, "amount": "600.00"},
        headers=h.auth(user),
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["fee"]["amount"] == "0.50"  # as a withdrawal: ¥500 over the quota
    response = await send(h, user, "600.00")
    assert response.status_code == 201, response.text
    body = response.json()["card_transfer"]
    assert body["status"] == "succeeded"
    assert body["fee"] == {"amount": "0.50", "currency": "CNY"}
    assert body["payee_name_masked"] == "李*"
    assert body["card_last_four"] == LI_NA.number[-4:]
    assert await h.balance(user) == Decimal("1000.00") - Decimal("600.50")
    assert await h.posted(FEES) - fees_before == 50
    (payout,) = await payouts_at_bank(h.app)
    assert (payout.card_number, payout.amount_fen, payout.status) == (
        LI_NA.number,
        600_00,
        "succeeded",
    )
    assert "card_transfer_succeeded" in await h.kinds(user)
    assert (await verify_ledger(h.engine)).clean
    # The free quota is shared with withdrawals: this transfer used it up.
    card_id = str(
        (await h.client.get("/v1/me/cards", headers=h.auth(user))).json()["items"][0]["id"]
    )
    quota = (await h.preview(user, card_id, "10.00")).json()["free_quota_remaining"]
    assert quota["amount"] == "0.00"


async def test_a_bank_decline_leaves_nothing(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000013", ICBC, "1000.00")
    response = await send(h, user, "200.00", card=YANG_LEI)
    assert_problem(response, 402, "bank_declined")
    assert await h.balance(user) == Decimal("1000.00")
    wallet = await h.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert wallet is not None
    assert (wallet.posted, wallet.available) == (1000_00, 1000_00)
    async with h.engine.connect() as conn:
        row = (await conn.execute(select(card_transfers))).one()
        released = await conn.scalar(select(spend_records.c.released_at))
    assert row.status == "failed"
    assert released is not None  # the spend no longer counts toward the limits
    assert "card_transfer_failed" in await h.kinds(user)
    assert (await verify_ledger(h.engine)).clean


async def test_an_unknown_outcome_is_settled_once(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000014", ICBC, "1000.00")
    response = await send(h, user, "300.52")  # .52: paid at the bank, then a 500
    assert response.status_code == 202, response.text
    assert response.json()["code"] == "operation_pending"
    assert response.json()["card_transfer"]["status"] == "pending"
    wallet = await h.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert wallet is not None
    assert wallet.available == 1000_00 - 300_52 - 20  # amount and fee held
    for _ in range(2):  # settling again changes nothing
        await settle_pending_withdrawals(h.services)
    async with h.engine.connect() as conn:
        row = (await conn.execute(select(card_transfers))).one()
    assert (row.status, row.failure_reason) == ("succeeded", None)
    assert await h.balance(user) == Decimal("1000.00") - Decimal("300.72")
    assert len(await payouts_at_bank(h.app)) == 1
    assert (await verify_ledger(h.engine)).clean


async def test_a_delayed_card_transfer_is_held_then_cancelled_once(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000015", ICBC, "1000.00")
    other, _ = await h.customer("+8613900000016", ICBC, "0")
    response = await send(h, user, "100.00", arrival="2h")
    assert response.status_code == 201, response.text
    body = response.json()["card_transfer"]
    assert body["status"] == "scheduled"
    assert body["arrives_at"] is not None
    assert await payouts_at_bank(h.app) == []  # the bank is asked only at arrival
    wallet = await h.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert wallet is not None
    assert wallet.available == 1000_00 - 100_00  # within the free quota: no fee
    url = f"/v1/card-transfers/{body['id']}"
    stranger = await h.client.post(
        f"{url}/cancel", headers=h.auth(other, **{"Idempotency-Key": "x"})
    )
    assert_problem(stranger, 404, "not_found")
    assert_problem(await h.client.get(url, headers=h.auth(other)), 404, "not_found")
    cancelled = await h.client.post(
        f"{url}/cancel", headers=h.auth(user, **{"Idempotency-Key": "c"})
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["card_transfer"]["status"] == "cancelled"
    again = await h.client.post(f"{url}/cancel", headers=h.auth(user, **{"Idempotency-Key": "d"}))
    assert_problem(again, 409, "transfer_not_cancellable")
    h.clock.advance(timedelta(hours=2))
    assert await arrive_card_transfer(h.services, body["id"]) == "cancelled"
    assert await payouts_at_bank(h.app) == []
    assert await h.balance(user) == Decimal("1000.00")
    wallet = await h.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert wallet is not None
    assert wallet.available == 1000_00
    assert (await verify_ledger(h.engine)).clean


async def test_a_delayed_card_transfer_arrives_once(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000017", ICBC, "1000.00")
    response = await send(h, user, "50.00", arrival="next_day")
    body = response.json()["card_transfer"]
    registry = HandlerRegistry()
    register(registry, h.services)
    (handler,) = registry.handlers_for(ARRIVAL_TOPIC)
    event = DeliveredEvent(7, ARRIVAL_TOPIC, {"card_transfer_id": body["id"]}, 1, h.clock.now())
    h.clock.advance(timedelta(hours=24))
    await handler(event)
    await handler(event)  # delivered again
    (payout,) = await payouts_at_bank(h.app)
    assert payout.amount_fen == 50_00
    got = await h.client.get(f"/v1/card-transfers/{body['id']}", headers=h.auth(user))
    assert got.json()["card_transfer"]["status"] == "succeeded"
    assert await h.balance(user) == Decimal("950.00")
    assert (await verify_ledger(h.engine)).clean


async def test_a_retry_with_the_same_key_is_answered_not_repeated(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000018", ICBC, "1000.00")
    first = await send(h, user, "20.00", key="same")
    second = await send(h, user, "20.00", key="same")
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    assert len(await payouts_at_bank(h.app)) == 1
    assert await h.balance(user) == Decimal("980.00")
