"""A maintenance window stops money wherever its route is mounted.

The hosted checkout's pay form (outside ``/v1``) once paid an order during a window while
``POST /v1/payments`` answered 503, and staff money writes (a counter deposit) were credited
because the whole staff API was exempt. Now every write is refused unless its route is on
the short reviewed list of what an operator needs (``ops/enforcement.py``); this file
checks it both by behaviour and by walking every route of the app.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from ewallet.http.idempotency import require_idempotency
from ewallet.models.identity import CodePurpose
from ewallet.ops.enforcement import OPEN_DURING_MAINTENANCE, is_guarded, route_verdicts
from ewallet.payments.links import CHECKOUT_PATH
from tests.fixtures.accounts import LOGIN_PASSWORD, TestUser, assert_problem
from tests.fixtures.payment_codes import charge, everything, show_code
from tests.fixtures.shop import PIN, Shop, clock, shop
from tests.fixtures.staff import bearer, make_staff, staff_token

__all__ = ["clock", "shop"]


def hidden(page: httpx.Response, name: str) -> str | None:
    match = re.search(rf'name="{name}" value="([^"]+)"', page.text)
    return match.group(1) if match else None


async def staff_headers(shop: Shop, role: str) -> dict[str, str]:
    login = await make_staff(shop.engine, shop.security, shop.clock, role)
    return bearer(
        await staff_token(shop.engine, shop.security, shop.settings, shop.clock, login.id)
    )


async def checkout_signed_in(shop: Shop, user: TestUser, base: str) -> str:
    """Sign ``user`` in on the checkout page (before any window); the pay form's token."""
    form = {"phone": user.phone, "login_password": LOGIN_PASSWORD}
    if (token := hidden(await shop.client.get(base), "csrf")) is not None:
        form["csrf"] = token
    signed = await shop.client.post(f"{base}/sign-in", data=form)
    if 'name="challenge_id"' in signed.text:  # a browser the account has never used
        step = {
            "challenge_id": hidden(signed, "challenge_id") or "",
            "verification_code": await shop.sms_code(user.phone, CodePurpose.STEP_UP),
        }
        if (token := hidden(signed, "csrf")) is not None:
            step["csrf"] = token
        signed = await shop.client.post(f"{base}/step-up", data=step)
    assert signed.status_code == 303, signed.text
    csrf = hidden(await shop.client.get(base), "csrf")
    assert csrf is not None
    return csrf


async def open_window(shop: Shop, operator: dict[str, str], message: str | None = None) -> str:
    starts = shop.clock.now()
    body: dict[str, Any] = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
    }
    if message:
        body["message"] = message
    response = await shop.client.post("/v1/staff/maintenance-windows", json=body, headers=operator)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_window_stops_every_money_route_and_ending_it_still_works(shop: Shop) -> None:
    merchant = await shop.merchant()
    payer = await shop.customer("+8613900000701", "100.00")
    paid_order = await shop.order(merchant, "10.00", out_trade_no="paid-before")
    assert (await shop.pay(payer, paid_order)).status_code == 201
    order_id = await shop.order(merchant, "12.30", out_trade_no="during")
    base = f"{CHECKOUT_PATH}/{order_id}"
    csrf = await checkout_signed_in(shop, payer, base)
    code = await show_code(shop, payer)
    operator = await staff_headers(shop, "operator")
    teller = await staff_headers(shop, "teller")
    window_id = await open_window(shop, operator)
    before = await everything(shop, payer)

    # The checkout page shows the message instead of its form, in the user's language.
    page = await shop.client.get(base, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Down for maintenance" in page.text
    assert 'name="payment_password"' not in page.text
    # A form already on screen posts anyway: refused as a page, nothing paid.
    form = {"payment_password": PIN, "csrf": csrf}
    refused = await shop.client.post(f"{base}/pay", data=form)
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("text/html")
    assert refused.headers["retry-after"] == "3600"
    assert "系统维护中" in refused.text
    assert "未扣款" in refused.text
    english = await shop.client.post(f"{base}/pay", data=form, headers={"Accept-Language": "en"})
    assert "Down for maintenance" in english.text
    assert "<script" not in english.text

    # The API, the merchant API and the staff API refuse alike.
    assert_problem(await shop.pay(payer, order_id), 503, "maintenance")
    assert_problem(await charge(shop, merchant, code, "5.00"), 503, "maintenance")
    assert_problem(await shop.refund(merchant, paid_order, "1.00", "R-1"), 503, "maintenance")
    assert_problem(await shop.create_order(merchant, "1.00"), 503, "maintenance")
    deposit = {"phone": payer.phone, "amount": "500.00", "receipt_no": "RCPT-1"}
    counter = await shop.client.post(
        "/v1/staff/counter-deposits",
        json=deposit,
        headers={**teller, "Idempotency-Key": "deposit-1"},
    )
    assert_problem(counter, 503, "maintenance")
    assert await everything(shop, payer) == before  # nothing paid, charged, credited

    # What an operator needs to end the window stays open.
    assert (
        await shop.client.post("/v1/staff/sessions/refresh", headers=operator)
    ).status_code == 201
    ended = await shop.client.delete(f"/v1/staff/maintenance-windows/{window_id}", headers=operator)
    assert ended.status_code == 204
    paid = await shop.client.post(f"{base}/pay", data=form)
    assert paid.status_code == 201, paid.text
    credited = await shop.client.post(
        "/v1/staff/counter-deposits",
        json=deposit,
        headers={**teller, "Idempotency-Key": "deposit-2"},
    )
    assert credited.status_code == 201, credited.text


async def test_the_window_message_reaches_the_checkout_page(shop: Shop) -> None:
    merchant = await shop.merchant()
    order_id = await shop.order(merchant, "3.00")
    operator = await staff_headers(shop, "operator")
    await open_window(shop, operator, message="系统升级中，预计 02:00 恢复")
    page = await shop.client.get(f"{CHECKOUT_PATH}/{order_id}")
    assert "系统升级中，预计 02:00 恢复" in page.text
    assert 'name="login_password"' not in page.text  # no sign-in form either
    refused = await shop.client.post(f"{CHECKOUT_PATH}/{order_id}/sign-in", data={"phone": "1"})
    assert refused.status_code == 503
    assert "系统升级中，预计 02:00 恢复" in refused.text


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for part in dependant.dependencies:
        yield part
        yield from _dependencies(part)


async def test_every_route_of_the_app_is_judged_and_money_routes_are_refused(
    shop: Shop,
) -> None:
    """Walks every route of the app, however deeply its router is included."""
    assert shop.app is not None
    verdicts = route_verdicts(shop.app)
    open_ops = {operation for operation, verdict in verdicts.items() if verdict == "open"}
    assert open_ops == OPEN_DURING_MAINTENANCE  # and every entry names a real route

    idempotent: set[tuple[str, str]] = set()
    for context in iter_route_contexts(shop.app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        if any(part.call is require_idempotency for part in _dependencies(context.dependant)):
            path = str(context.path)
            idempotent.update((method, path) for method in context.methods or ())
    assert len(idempotent) > 10
    for operation in idempotent:  # API.md: every money-moving POST is idempotent
        assert verdicts[operation] != "open", operation
        assert is_guarded(*operation), operation

    money = {
        ("POST", "/v1/payments"),
        ("POST", "/v1/transfers"),
        ("POST", "/v1/topups"),
        ("POST", "/v1/withdrawals"),
        ("POST", "/v1/merchant/orders"),
        ("POST", "/v1/merchant/charges"),
        ("POST", "/v1/merchant/orders/{order_id}/refunds"),
        ("POST", "/v1/staff/counter-deposits"),
        ("POST", "/v1/staff/counter-deposits/{deposit_id}/approve"),
        ("POST", "/v1/callbacks/alipay"),
    }
    assert {verdicts[operation] for operation in money} == {"refuse"}
    checkout_forms = {op: v for op, v in verdicts.items() if op[1].startswith(CHECKOUT_PATH)}
    assert checkout_forms == {
        ("POST", f"{CHECKOUT_PATH}/{{order_id}}/sign-in"): "refuse_html",
        ("POST", f"{CHECKOUT_PATH}/{{order_id}}/step-up"): "refuse_html",
        ("POST", f"{CHECKOUT_PATH}/{{order_id}}/pay"): "refuse_html",
    }
    # Staff writes that move no money are refused too: a window freezes the data.
    assert verdicts[("POST", "/v1/staff/users/{user_id}/freeze")] == "refuse"
