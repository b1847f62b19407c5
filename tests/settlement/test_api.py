"""Merchant API over settlements and statements; staff register payout accounts.

Statements list the day's real payments and refunds (made through the API); the PDF is
rendered to an image under ``EWALLET_SCREENSHOT_DIR`` (or the test's tmp dir) to look at.
"""

from __future__ import annotations

import csv
import io

from pypdf import PdfReader
from sqlalchemy import func, select

from ewallet.models.tables import audit_events, billers, payout_accounts
from tests.fixtures.staff import bearer, make_staff, staff_token
from tests.settlement.conftest import CCB, FIRST_DAY, ICBC, Settling, at
from tests.settlement.helpers import bank_balance

PATH = "/v1/merchant/settlements"


async def _token(settling: Settling, role: str) -> dict[str, str]:
    member = await make_staff(settling.engine, settling.security, settling.clock, role)
    return bearer(
        await staff_token(
            settling.engine, settling.security, settling.settings, settling.clock, member.id
        )
    )


async def test_statements_list_detail_csv_pdf_and_authorization(settling: Settling) -> None:
    shop = await settling.shop_with_account("早点铺 Breakfast")
    other = await settling.shop_with_account("Other Shop", CCB)
    settling.clock.set(at(FIRST_DAY, 9))
    customer = await settling.customer("+8613800000001", "500.00")
    orders = [
        await settling.order(shop, amount, out_trade_no=f"B-{amount}")
        for amount in ("12.30", "45.00")
    ]
    for order_id in orders:
        paid = await settling.pay(customer, order_id)
        assert paid.status_code == 201, paid.text
    refunded = await settling.refund(shop, orders[1], "5.00", "R-1")
    assert refunded.status_code in (200, 201), refunded.text
    before = await bank_balance(settling.app, ICBC)

    report = await settling.run(FIRST_DAY)

    merchant_gets = await settling.client.get(PATH, headers=settling.key(shop))
    assert merchant_gets.status_code == 200, merchant_gets.text
    (item,) = merchant_gets.json()["items"]
    paid_out = await bank_balance(settling.app, ICBC) - before
    assert item["business_day"] == FIRST_DAY.isoformat()
    assert item["gross"] == {"amount": "57.30", "currency": "CNY"}
    assert item["refunds"] == {"amount": "5.00", "currency": "CNY"}
    net_fen = round(float(item["net"]["amount"]) * 100)
    fees_fen = round(float(item["fees"]["amount"]) * 100)
    assert net_fen == 57_30 - 5_00 - fees_fen  # the ledger's net is the statement's
    assert item["status"] == "paid"
    assert round(float(item["amount_paid"]["amount"]) * 100) == paid_out
    assert report.paid_total >= paid_out
    settlement_id = item["id"]

    detail = await settling.client.get(f"{PATH}/{settlement_id}", headers=settling.key(shop))
    assert detail.status_code == 200
    assert detail.json()["settlement"]["id"] == settlement_id

    text = await settling.client.get(
        f"{PATH}/{settlement_id}/statement.csv", headers=settling.key(shop)
    )
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    lines = [r for r in rows if r["type"] != "total"]
    assert [(r["type"], r["reference"], r["amount"]) for r in lines] == [
        ("payment", "B-12.30", "12.30"),
        ("payment", "B-45.00", "45.00"),
        ("refund", "R-1", "-5.00"),
    ]
    totals = {r["id"]: r["amount"] for r in rows if r["type"] == "total"}
    assert totals["gross"] == "57.30"
    assert totals["refunds"] == "5.00"
    assert totals["paid"] == item["amount_paid"]["amount"]
    assert totals["carried_out"] == "0.00"

    pdf = await settling.client.get(
        f"{PATH}/{settlement_id}/statement.pdf", headers=settling.key(shop)
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    page = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "B-45.00" in page
    assert "57.30" in page

    # Another merchant's key: 404 for every route, never the data; no key: 401.
    for suffix in ("", "/statement.csv", "/statement.pdf"):
        foreign = await settling.client.get(
            f"{PATH}/{settlement_id}{suffix}", headers=settling.key(other)
        )
        assert foreign.status_code == 404, foreign.text
        assert foreign.json()["code"] == "not_found"
        anonymous = await settling.client.get(f"{PATH}/{settlement_id}{suffix}")
        assert anonymous.status_code == 401
    assert (await settling.client.get(PATH)).status_code == 401
    assert (await settling.client.get(PATH, headers=settling.key(other))).json()["items"] == []


async def test_the_list_pages_by_cursor(settling: Settling) -> None:
    from datetime import timedelta  # noqa: PLC0415

    shop = await settling.shop_with_account()
    for n in range(3):
        day = FIRST_DAY + timedelta(days=n)
        await settling.sale(shop.merchant.id, 1_00 + n, 0, at(day, 10))
        await settling.run(day)
    first = (
        await settling.client.get(PATH, params={"limit": 2}, headers=settling.key(shop))
    ).json()
    assert [i["business_day"] for i in first["items"]] == ["2026-03-04", "2026-03-03"]
    rest = await settling.client.get(
        PATH, params={"limit": 2, "cursor": first["next_cursor"]}, headers=settling.key(shop)
    )
    assert [i["business_day"] for i in rest.json()["items"]] == ["2026-03-02"]
    assert rest.json()["next_cursor"] is None
    bad = await settling.client.get(PATH, params={"cursor": "nope"}, headers=settling.key(shop))
    assert bad.status_code == 422


async def test_staff_register_a_payout_account_masked_and_audited(settling: Settling) -> None:
    shop = await settling.merchant("Needs An Account")
    path = f"/v1/staff/merchants/{shop.merchant.id}/payout-account"
    body = {"account_number": ICBC.number, "holder_name": ICBC.holder_name}
    agent = await _token(settling, "support_agent")
    assert (await settling.client.put(path, json=body, headers=agent)).status_code == 403
    assert (await settling.client.put(path, json=body)).status_code == 401
    operator = await _token(settling, "operator")
    assert (await settling.client.get(path, headers=operator)).status_code == 404

    answer = await settling.client.put(path, json=body, headers=operator)

    assert answer.status_code == 200, answer.text
    account = answer.json()["payout_account"]
    assert account["account_number_masked"] == "**** **** **** " + ICBC.number[-4:]
    assert ICBC.number not in answer.text
    assert (account["bank_code"], account["holder_name"]) == ("ICBC", ICBC.holder_name)
    async with settling.engine.connect() as conn:
        stored = (await conn.execute(select(payout_accounts))).one()
        assert ICBC.number not in stored.account_number_encrypted
        events = await conn.scalar(
            select(func.count())
            .select_from(audit_events)
            .where(audit_events.c.action == "settlement.payout_account_set")
        )
    assert events == 1
    got = await settling.client.get(path, headers=operator)
    assert got.status_code == 200
    assert got.json()["payout_account"]["bank_name"]

    # Refusals leave nothing: a bad number, an unknown merchant.
    bad = await settling.client.put(
        path, json={"account_number": "6212260200001234563", "holder_name": "x"}, headers=operator
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "card_invalid"
    missing = await settling.client.put(
        "/v1/staff/merchants/mch_nope/payout-account", json=body, headers=operator
    )
    assert missing.status_code == 404
    async with settling.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(payout_accounts)) == 1


async def test_staff_register_a_billers_payout_account(settling: Settling) -> None:
    async with settling.engine.connect() as conn:
        biller_id = await conn.scalar(select(billers.c.id).order_by(billers.c.id).limit(1))
    path = f"/v1/staff/billers/{biller_id}/payout-account"
    body = {"account_number": CCB.number, "holder_name": CCB.holder_name}
    agent = await _token(settling, "support_agent")
    assert (await settling.client.put(path, json=body, headers=agent)).status_code == 403
    operator = await _token(settling, "operator")
    answer = await settling.client.put(path, json=body, headers=operator)
    assert answer.status_code == 200, answer.text
    assert answer.json()["payout_account"]["party_kind"] == "biller"
    got = await settling.client.get(path, headers=operator)
    assert got.json()["payout_account"]["bank_code"] == "CCB"
    missing = await settling.client.put(
        "/v1/staff/billers/nope/payout-account", json=body, headers=operator
    )
    assert missing.status_code == 404
