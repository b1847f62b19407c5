"""PSP notifications: replayed and racing ones credit once; tampered ones credit nothing and
are audited; each PSP gets exactly the answer it expects."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from urllib.parse import urlencode

import httpx
from sqlalchemy import select

from ewallet.integrations.psp import alipay as alipay_protocol
from ewallet.integrations.psp.keys import generate_private_key
from ewallet.ledger.verify import verify_ledger
from ewallet.models.tables import topups
from ewallet.sandbox.psp.delivery import Outgoing
from tests.fixtures.accounts import TestUser, audit_events
from tests.fixtures.funding import Funding

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


async def _unpaid(funding: Funding, user: TestUser, method: str, amount: str = "50.00") -> str:
    response = await funding.start(user, method, amount, key=f"{method}-{amount}-{user.id}")
    assert response.status_code == 201, response.text
    topup_id: str = response.json()["topup"]["id"]
    return topup_id


def _paid_alipay_form(funding: Funding, topup_id: str) -> dict[str, str]:
    """The signed notify of a trade marked paid in the sandbox without sending it."""
    trade = funding.alipay.trades[topup_id]
    trade.status, trade.trade_no = "TRADE_SUCCESS", "2026030222001400000000000001"
    trade.paid_at, trade.notify_id = funding.clock.now(), "nid-" + topup_id
    return funding.alipay.notify_form(trade)


def _paid_wechat_notification(funding: Funding, topup_id: str) -> Outgoing:
    order = funding.wechat.orders[topup_id]
    order.trade_state, order.success_time = "SUCCESS", funding.clock.now()
    order.transaction_id = "4200000000000000000000000001"
    return funding.wechat.notification(order)


async def _post_alipay(funding: Funding, form: dict[str, str]) -> httpx.Response:
    return await funding.client.post(
        "/v1/callbacks/alipay", content=urlencode(form).encode(), headers=FORM
    )


async def _post_wechat(funding: Funding, outgoing: Outgoing) -> httpx.Response:
    return await funding.client.post(
        "/v1/callbacks/wechat-pay", content=outgoing.content, headers=outgoing.headers
    )


async def _rejections(funding: Funding) -> list[tuple[str, str]]:
    async with funding.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_events.c.actor_type, audit_events.c.subject_id).where(
                audit_events.c.action == "psp.notify_rejected"
            )
        )
        return [(row.actor_type, row.subject_id) for row in rows]


async def test_replayed_notifications_credit_once(funding: Funding) -> None:
    user = await funding.user()
    ali = await _unpaid(funding, user, "alipay", "10.00")
    wx = await _unpaid(funding, user, "wechat_pay", "20.00")
    await funding.pay("alipay", ali)
    await funding.pay("wechat_pay", wx)
    await funding.wait_status(user, ali, "succeeded")
    await funding.wait_status(user, wx, "succeeded")
    assert await funding.balance(user) == Decimal("30.00")

    for _ in range(2):  # the PSP's retries and a replay: accepted, credited nothing more
        answer = await _post_alipay(funding, funding.alipay.notify_form(funding.alipay.trades[ali]))
        assert (answer.status_code, answer.text) == (200, "success")
        answer = await _post_wechat(funding, funding.wechat.notification(funding.wechat.orders[wx]))
        assert (answer.status_code, answer.content) == (204, b"")
    assert await funding.balance(user) == Decimal("30.00")
    assert await funding.kinds(user) == ["topup_succeeded", "topup_succeeded"]
    assert (await verify_ledger(funding.engine)).clean


async def test_racing_notifications_credit_once(funding: Funding) -> None:
    user = await funding.user()
    ali = await _unpaid(funding, user, "alipay", "10.00")
    wx = await _unpaid(funding, user, "wechat_pay", "20.00")
    form = _paid_alipay_form(funding, ali)
    outgoing = _paid_wechat_notification(funding, wx)
    answers = await asyncio.gather(
        *(_post_alipay(funding, form) for _ in range(3)),
        *(_post_wechat(funding, outgoing) for _ in range(3)),
    )
    assert [a.status_code for a in answers] == [200, 200, 200, 204, 204, 204]
    assert {a.text for a in answers[:3]} == {"success"}
    assert await funding.balance(user) == Decimal("30.00")
    assert await funding.kinds(user) == ["topup_succeeded", "topup_succeeded"]
    rows = {row.id: row for row in await funding.topup_rows(user)}
    assert rows[ali].provider_reference == "2026030222001400000000000001"
    assert rows[wx].provider_reference == "4200000000000000000000000001"
    assert (await verify_ledger(funding.engine)).clean


async def test_tampered_alipay_notifications_credit_nothing(funding: Funding) -> None:
    user = await funding.user()
    topup_id = await _unpaid(funding, user, "alipay", "10.00")
    genuine = _paid_alipay_form(funding, topup_id)
    platform_key = funding.alipay._credentials.get().platform_private_key
    unsigned = {k: v for k, v in genuine.items() if k not in ("sign", "sign_type")}
    raised = {**unsigned, "total_amount": "10000.00", "receipt_amount": "10000.00"}
    forged = [
        {**genuine, "total_amount": "10000.00"},  # signature no longer verifies
        alipay_protocol.sign_notify(raised, generate_private_key()),  # a stranger's key
        alipay_protocol.sign_notify(raised, platform_key),  # signed, but not our order's amount
        {**genuine, "sign": genuine["sign"][:-8] + "AAAAAAA="},  # broken signature
        {k: v for k, v in genuine.items() if k != "sign"},  # unsigned
    ]
    for form in forged:
        answer = await _post_alipay(funding, form)
        assert (answer.status_code, answer.text) == (200, "fail")
    bad_body = await funding.client.post(
        "/v1/callbacks/alipay", content=b"out_trade_no=%FF%FE", headers=FORM
    )
    assert (bad_body.status_code, bad_body.text) == (200, "fail")

    assert await funding.balance(user) == Decimal("0.00")
    assert await funding.kinds(user) == []
    (row,) = await funding.topup_rows(user)
    assert (row.status, row.ledger_transaction_id) == ("awaiting_payment", None)
    rejections = await _rejections(funding)
    assert len(rejections) == len(forged) + 1
    assert {actor for actor, _ in rejections} == {"system"}
    assert ("system", topup_id) in rejections
    assert (await verify_ledger(funding.engine)).clean

    answer = await _post_alipay(funding, genuine)  # the real one still works afterwards
    assert answer.text == "success"
    assert await funding.balance(user) == Decimal("10.00")


async def test_tampered_wechat_notifications_credit_nothing(funding: Funding) -> None:
    user = await funding.user()
    topup_id = await _unpaid(funding, user, "wechat_pay", "10.00")
    genuine = _paid_wechat_notification(funding, topup_id)
    body = genuine.content.replace(b'"summary"', b'"Summary"')
    signature = genuine.headers["Wechatpay-Signature"]
    forged = [
        replace(genuine, content=body),  # body changed after signing
        replace(
            genuine,
            headers={**genuine.headers, "Wechatpay-Signature": signature[:-8] + "AAAAAAA="},
        ),
        replace(genuine, headers={**genuine.headers, "Wechatpay-Timestamp": "1700000000"}),
    ]
    for outgoing in forged:
        answer = await _post_wechat(funding, outgoing)
        assert answer.status_code == 401, answer.text
        assert answer.json()["code"] == "FAIL"

    # Correctly signed and encrypted, but for another amount than our order's.
    order = funding.wechat.orders[topup_id]
    order.total = 1_000_000
    answer = await _post_wechat(funding, funding.wechat.notification(order))
    assert answer.status_code == 400
    assert answer.json()["code"] == "FAIL"

    assert await funding.balance(user) == Decimal("0.00")
    (row,) = await funding.topup_rows(user)
    assert (row.status, row.ledger_transaction_id) == ("awaiting_payment", None)
    rejections = await _rejections(funding)
    assert len(rejections) == len(forged) + 1
    assert ("system", topup_id) in rejections
    assert (await verify_ledger(funding.engine)).clean


async def test_unknown_orders_are_refused(funding: Funding) -> None:
    user = await funding.user()
    ali = await _unpaid(funding, user, "alipay", "10.00")
    wx = await _unpaid(funding, user, "wechat_pay", "10.00")
    form = _paid_alipay_form(funding, ali)
    outgoing = _paid_wechat_notification(funding, wx)
    async with funding.engine.begin() as conn:  # forget our side of both orders
        await conn.execute(topups.delete().where(topups.c.user_id == user.id))
    answer = await _post_alipay(funding, form)
    assert (answer.status_code, answer.text) == (200, "fail")
    answer = await _post_wechat(funding, outgoing)
    assert answer.status_code == 404
    assert answer.json()["code"] == "FAIL"
    assert await funding.balance(user) == Decimal("0.00")
