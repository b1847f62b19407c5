"""An online merchant payment risk control sends to review waits on a hold
(docs/risk-review.md, "Merchant payments"): 202 ``under_review``, the whole amount held
wallet -> merchant, NO payments row, the order ``under_review`` (never expiring, not
closable) and ``order.under_review`` queued; approving posts the normal payment entry (the
merchant credited net of its fee, once) and writes the payment; rejecting releases the
hold and the spend from the day's limits and closes the order; refused approvals change
nothing; a payment-code charge still refuses a review. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy import select, update

from ewallet.audit.service import Actor
from ewallet.kit.request_key import RequestKey
from ewallet.ledger.verify import verify_ledger
from ewallet.merchants.service import update_merchant
from ewallet.merchants.views import NewMerchant
from ewallet.models.operations import StaffRole
from ewallet.models.outbox import OutboxEvent
from ewallet.models.risk import RuleAction
from ewallet.models.tables import held_payments, ledger_holds, risk_reviews, users
from ewallet.payments.service import pay_order, payment_for_request
from ewallet.payments.webhooks.service import WEBHOOK_TOPIC
from tests.fixtures.accounts import assert_problem
from tests.fixtures.payment_codes import charge, show_code
from tests.fixtures.shop import PIN, Shop, TestUser, clock, payments, shop
from tests.risk.engine.helpers import install, rule

from .helpers import BASE, NOTE, counts, only_review, staff_headers

__all__ = ["clock", "shop"]  # the shop harness's fixtures

HOOKS = "https://shop.example.com/hooks"
SLA = timedelta(minutes=240)  # EWALLET_RISK_REVIEW_SLA_MINUTES's default


async def review_large_payments(shop: Shop) -> None:
    """Online payments of 100 yuan or more go to review; nothing else acts."""
    await install(
        shop,
        rule("look", "amount >= 100", RuleAction.REVIEW, events=("payment", "static_qr")),
    )


async def setting(shop: Shop, funds: str = "500.00") -> tuple[NewMerchant, TestUser]:
    merchant = await shop.merchant(webhook_url=HOOKS)
    user = await shop.customer("+8613900000501", funds)
    await review_large_payments(shop)
    return merchant, user


async def held(shop: Shop, user: TestUser, order_id: str, key: str = "held") -> Any:
    response = await shop.pay(user, order_id, key=key)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["code"] == "under_review"
    assert body["review_due_at"] == body["payment"]["review_due_at"]
    return body["payment"]


async def events(shop: Shop, order_id: str) -> list[dict[str, Any]]:
    """The merchant webhooks queued for ``order_id``, oldest first: (type, data)."""
    table = OutboxEvent.__table__
    async with shop.engine.connect() as conn:
        rows = await conn.execute(
            select(table.c.payload).where(table.c.topic == WEBHOOK_TOPIC).order_by(table.c.id)
        )
        found = [row.payload for row in rows if row.payload["order_id"] == order_id]
    return [{"type": p["event_type"], **_data(p["body"])} for p in found]


def _data(body: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(body)["data"]
    return data


async def decide(shop: Shop, review_id: str, verb: str, headers: dict[str, str]) -> httpx.Response:
    return await shop.client.post(
        f"{BASE}/{review_id}/{verb}", json={"note": NOTE}, headers=headers
    )


async def available(shop: Shop, user: TestUser) -> tuple[int, int]:
    """The wallet's posted balance and what holds keep back from it (fen)."""
    account = await shop.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert account is not None
    return account.posted, account.pending_debits


async def held_row(shop: Shop, payment_id: str) -> Any:
    async with shop.engine.connect() as conn:
        statement = select(held_payments).where(held_payments.c.payment_id == payment_id)
        return (await conn.execute(statement)).one()


async def test_a_reviewed_payment_is_held_without_a_payment_row(shop: Shop) -> None:
    merchant, user = await setting(shop)
    small = await shop.pay(user, await shop.order(merchant, "99.99", out_trade_no="small"))
    assert small.status_code == 201, small.text  # below the rule: paid at once
    order_id = await shop.order(merchant, "120.00", out_trade_no="big", expires_in=600)
    before = await counts(shop)
    payment = await held(shop, user, order_id)
    assert (payment["status"], payment["order_id"]) == ("under_review", order_id)
    assert datetime.fromisoformat(payment["review_due_at"]) == shop.clock.now() + SLA
    # The money waits on a hold of the whole amount; the merchant got only the small one.
    assert await available(shop, user) == (500_00 - 99_99, 120_00)
    assert await shop.merchant_balance(merchant) == 99_99 - 38  # 0.38 % fee of 99.99
    assert await shop.count(payments) == 1  # the small payment's only
    after = await counts(shop)
    assert after["ledger_transactions"] == before["ledger_transactions"]
    assert after["ledger_holds"] == before["ledger_holds"] + 1
    review = await only_review(shop)
    assert (review.state, review.subject_id, review.channel, review.amount) == (
        "open",
        payment["id"],
        "payment",
        120_00,
    )
    row = await held_row(shop, payment["id"])
    assert (row.state, row.hold_id, row.review_id, row.fee) == (
        "under_review",
        review.hold_id,
        review.id,
        46,  # 0.38 % of 120.00 = 45.6 fen, rounded half up
    )
    order = await shop.order_row(order_id)
    assert (order.status, order.payment_id, order.paid_at) == ("under_review", payment["id"], None)
    [told] = await events(shop, order_id)
    assert told["type"] == "order.under_review"
    assert told["payment_id"] == payment["id"]
    assert told["order"]["status"] == "under_review"
    assert "payment_under_review" in await shop.kinds(user)
    # The merchant sees it under review, even past its expiry, and cannot close it.
    shop.clock.advance(timedelta(seconds=601))
    path = f"/v1/merchant/orders/{order_id}"
    shown = await shop.client.get(path, headers=shop.key(merchant))
    assert shown.json()["order"]["status"] == "under_review"
    closing = await shop.client.post(f"{path}/close", headers=shop.key(merchant))
    assert_problem(closing, 409, "order_not_closable")
    assert (await shop.order_row(order_id)).status == "under_review"
    # The payer reads it; nobody else can.
    read = await shop.client.get(f"/v1/payments/{payment['id']}", headers=shop.auth(user))
    assert read.status_code == 200, read.text
    assert read.json()["payment"] == payment
    stranger = await shop.customer("+8613900000502", "0")
    other = await shop.client.get(f"/v1/payments/{payment['id']}", headers=shop.auth(stranger))
    assert_problem(other, 404, "not_found")
    # The same request again answers the same held payment: no second hold or review.
    again = await shop.pay(user, order_id, key="held")
    assert again.status_code == 202, again.text
    assert again.json()["payment"] == payment
    assert await counts(shop) == after
    # Another request for the order is refused: it is not payable while it waits.
    assert_problem(await shop.pay(user, order_id, key="other"), 409, "order_not_payable")
    assert (await verify_ledger(shop.engine)).clean


async def test_approving_completes_the_payment_once(shop: Shop) -> None:
    merchant, user = await setting(shop)
    order_id = await shop.order(merchant, "120.00")
    payment = await held(shop, user, order_id)
    review = await only_review(shop)
    shop.clock.advance(timedelta(minutes=30))
    officer = await staff_headers(shop, StaffRole.RISK_OFFICER)
    approved = await decide(shop, review.id, "approve", officer)
    assert approved.status_code == 200, approved.text
    assert approved.json()["review"]["state"] == "approved"
    # The normal entry: the merchant net of its fee, fee revenue the fee; no hold left.
    assert await available(shop, user) == (500_00 - 120_00, 0)
    assert await shop.merchant_balance(merchant) == 120_00 - 46
    assert await shop.posted("fee_revenue:CNY") == 46
    async with shop.engine.connect() as conn:
        hold = (
            await conn.execute(select(ledger_holds).where(ledger_holds.c.id == review.hold_id))
        ).one()
        [row] = (await conn.execute(select(payments))).all()
    assert hold.status == "voided"
    assert (row.id, row.order_id, row.amount, row.fee) == (payment["id"], order_id, 120_00, 46)
    assert row.ledger_transaction_id is not None
    posted = await shop.ledger.transaction(row.ledger_transaction_id)
    assert posted is not None
    assert (posted.kind, posted.idempotency_key) == ("payment", f"payment:{payment['id']}")
    assert len(posted.postings) == 3  # wallet, merchant net of fee, fee revenue
    order = await shop.order_row(order_id)
    assert (order.status, order.payment_id, order.paid_at) == (
        "paid",
        payment["id"],
        shop.clock.now(),
    )
    assert (await held_row(shop, payment["id"])).state == "approved"
    types = [e["type"] for e in await events(shop, order_id)]
    assert types == ["order.under_review", "order.paid"]
    assert (await events(shop, order_id))[1]["order"]["status"] == "paid"
    assert "payment_review_approved" in await shop.kinds(user)
    read = await shop.client.get(f"/v1/payments/{payment['id']}", headers=shop.auth(user))
    assert read.json()["payment"]["status"] == "succeeded"
    # Once: a second approval, or a late rejection, is a conflict that changes nothing.
    after = await counts(shop)
    for verb in ("approve", "reject"):
        late = await decide(shop, review.id, verb, officer)
        assert assert_problem(late, 409, "conflict")["state"] == "approved"
    assert await counts(shop) == after
    assert await shop.merchant_balance(merchant) == 120_00 - 46
    # The merchant can refund it like any payment.
    refunded = await shop.refund(merchant, order_id, "20.00", "R1")
    assert refunded.status_code == 201, refunded.text
    assert (await verify_ledger(shop.engine)).clean


async def test_rejecting_releases_the_hold_and_the_limits_and_closes_the_order(
    shop: Shop,
) -> None:
    merchant, user = await setting(shop, funds="1000.00")
    async with shop.engine.begin() as conn:  # the day's payment limit is 200 yuan
        await conn.execute(update(users).where(users.c.id == user.id).values(tier=1))
    order_id = await shop.order(merchant, "150.00")
    payment = await held(shop, user, order_id)
    review = await only_review(shop)
    officer = await staff_headers(shop, StaffRole.RISK_OFFICER)
    # While held it counts toward the limits, as any spend does.
    rejected = await decide(shop, review.id, "reject", officer)
    assert rejected.status_code == 200, rejected.text
    assert await available(shop, user) == (1000_00, 0)
    assert await shop.merchant_balance(merchant) == 0
    assert await shop.count(payments) == 0
    order = await shop.order_row(order_id)
    assert (order.status, order.closed_at) == ("closed", shop.clock.now())
    assert (await held_row(shop, payment["id"])).state == "rejected"
    types = [e["type"] for e in await events(shop, order_id)]
    assert types == ["order.under_review", "order.closed"]
    assert "payment_review_rejected" in await shop.kinds(user)
    read = await shop.client.get(f"/v1/payments/{payment['id']}", headers=shop.auth(user))
    assert read.json()["payment"]["status"] == "rejected"
    # The rejected payment is no longer in the day's limits: the same amount pays again.
    await install(shop)  # no rule any more
    again = await shop.pay(user, await shop.order(merchant, "150.00", out_trade_no="T2"))
    assert again.status_code == 201, again.text
    assert (await verify_ledger(shop.engine)).clean


async def test_refused_approvals_change_nothing(shop: Shop) -> None:
    merchant, user = await setting(shop)
    order_id = await shop.order(merchant, "120.00")
    payment = await held(shop, user, order_id)
    review = await only_review(shop)
    officer = await staff_headers(shop, StaffRole.RISK_OFFICER)
    async with shop.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user.id).values(status="frozen", frozen_by="self")
        )
    before = (await counts(shop), await shop.state(user, order_id), await events(shop, order_id))
    assert_problem(await decide(shop, review.id, "approve", officer), 423, "account_frozen")
    async with shop.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user.id).values(status="active", frozen_by=None)
        )
    await update_merchant(
        shop.services,
        Actor.system(),
        merchant_id=merchant.merchant.id,
        changes={"status": "disabled"},
    )
    before = (await counts(shop), await shop.state(user, order_id), await events(shop, order_id))
    refused = await decide(shop, review.id, "approve", officer)
    assert assert_problem(refused, 409, "conflict")["reason"] == "merchant_not_supported"
    assert (
        await counts(shop),
        await shop.state(user, order_id),
        await events(shop, order_id),
    ) == before
    async with shop.engine.connect() as conn:
        state = await conn.scalar(select(risk_reviews.c.state))
    assert state == "open"
    assert (await held_row(shop, payment["id"])).state == "under_review"
    # A rejection still goes through.
    assert (await decide(shop, review.id, "reject", officer)).status_code == 200
    assert await available(shop, user) == (500_00, 0)
    assert (await verify_ledger(shop.engine)).clean


async def test_a_rerun_of_the_request_finds_the_held_payment(shop: Shop) -> None:
    """Below the HTTP idempotency cache (a crash between commit and stored answer, say):
    the request key on the held payment answers it again, never a second hold."""
    merchant, user = await setting(shop)
    order_id = await shop.order(merchant, "120.00")
    key = RequestKey("e" * 64)
    pay = partial(
        pay_order,
        shop.services,
        Actor("user", user.id, None),
        user_id=user.id,
        order_id=order_id,
        pin=PIN,
        request_key=key,
    )
    first = await pay()
    assert first.status == "under_review"
    after = await counts(shop)
    again = await pay()
    assert (again.id, again.status, again.review_due_at) == (
        first.id,
        "under_review",
        first.review_due_at,
    )
    assert await counts(shop) == after
    found = await payment_for_request(shop.services, user_id=user.id, request_key=key)
    assert found is not None
    assert found.id == first.id


async def test_a_payment_code_charge_still_refuses_a_review(shop: Shop) -> None:
    """A cashier cannot wait hours: a charge risk would review is refused, nothing held."""
    merchant = await shop.merchant(webhook_url=HOOKS)
    user = await shop.customer("+8613900000503", "100.00")
    await install(shop, rule("look", "amount >= 1", RuleAction.REVIEW, events=("payment_code",)))
    code = await show_code(shop, user)
    before = await counts(shop)
    refused = await charge(shop, merchant, code, "12.00")
    assert refused.status_code == 202, refused.text
    assert refused.json()["code"] == "under_review"
    assert await counts(shop) == {**before, "risk_reviews": 0}
    assert await shop.count(held_payments) == 0
    assert await shop.count(payments) == 0
    assert await available(shop, user) == (100_00, 0)
