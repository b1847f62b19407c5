"""The biller directory and bill look-ups against every sandbox behaviour."""

from __future__ import annotations

from ewallet.integrations.biller.directory import DEFAULT_BILLERS, luhn_check_digit, luhn_valid
from ewallet.sandbox.biller import documented_accounts
from tests.bills.conftest import ACCOUNTS, Billing
from tests.fixtures.accounts import assert_problem


async def test_directory_lists_every_category_and_filters(billing: Billing) -> None:
    user = await billing.user()
    everything = await billing.client.get("/v1/billers", headers=billing.auth(user))
    assert everything.status_code == 200, everything.text
    items = everything.json()["items"]
    assert {item["id"] for item in items} == {spec.id for spec in DEFAULT_BILLERS}
    assert {item["category"] for item in items} == {
        "electricity",
        "water",
        "gas",
        "mobile_topup",
        "broadband",
    }
    grid = next(item for item in items if item["id"] == "sgcc_bj")
    assert grid["name"] == {
        "zh-CN": "国网北京市电力公司",
        "en": "State Grid Beijing Electric Power",
    }
    assert grid["account_hint"]["en"] == "the 10-digit customer number on the bill"
    assert grid["allowed_amounts"] is None

    topups = await billing.client.get(
        "/v1/billers", params={"category": "mobile_topup"}, headers=billing.auth(user)
    )
    assert [item["id"] for item in topups.json()["items"]] == ["cmcc_topup", "cucc_topup"]
    amounts = [a["amount"] for a in topups.json()["items"][0]["allowed_amounts"]]
    assert amounts == ["10.00", "20.00", "30.00", "50.00", "100.00", "200.00", "300.00", "500.00"]

    wrong = await billing.client.get(
        "/v1/billers", params={"category": "casino"}, headers=billing.auth(user)
    )
    assert_problem(wrong, 422, "validation_error")
    assert_problem(await billing.client.get("/v1/billers"), 401, "unauthorized")


async def test_lookup_answers_each_sandbox_behaviour(billing: Billing) -> None:
    user = await billing.user()
    due = await billing.lookup(user, ACCOUNTS["due"])
    assert due.status_code == 200, due.text
    body = due.json()
    assert body["biller_id"] == "sgcc_bj"
    assert body["account_no_masked"] == "100***0001"
    assert body["amount_due"]["currency"] == "CNY"
    assert 50 <= float(body["amount_due"]["amount"]) < 500
    assert "*" in body["holder_name_masked"]
    assert body["period"] == "2026-02"  # the harness's clock is 2 March 2026
    assert body["due_date"] == "2026-03-25"

    nothing = await billing.lookup(user, ACCOUNTS["nothing_due"])
    assert nothing.json()["amount_due"]["amount"] == "0.00"
    assert_problem(await billing.lookup(user, ACCOUNTS["unknown"]), 404, "bill_account_not_found")
    assert_problem(await billing.lookup(user, ACCOUNTS["timeout"]), 503, "upstream_unavailable")


async def test_lookup_refuses_malformed_accounts_with_the_hint(billing: Billing) -> None:
    user = await billing.user()
    short = assert_problem(await billing.lookup(user, "12345"), 422, "bill_account_invalid")
    assert short["hint"]["zh-CN"] == "10 位数字户号，见电费账单"
    # Spaces from a paper bill are fine.
    spaced = await billing.lookup(user, "100 000 0001")
    assert spaced.status_code == 200, spaced.text

    water = documented_accounts(next(s for s in DEFAULT_BILLERS if s.id == "bj_water"))["due"]
    assert (await billing.lookup(user, water, "bj_water")).status_code == 200
    broken = water[:-1] + str((int(water[-1]) + 1) % 10)
    assert_problem(await billing.lookup(user, broken, "bj_water"), 422, "bill_account_invalid")

    phone = await billing.lookup(user, "+86 138 0000 0001", "cmcc_topup")
    assert phone.status_code == 200, phone.text
    assert phone.json()["amount_due"]["amount"] == "0.00"
    assert_problem(
        await billing.lookup(user, "12800000001", "cmcc_topup"), 422, "bill_account_invalid"
    )
    assert_problem(await billing.lookup(user, ACCOUNTS["due"], "no_such_biller"), 404, "not_found")
    no_token = await billing.client.post(
        "/v1/bills/lookup", json={"biller_id": "sgcc_bj", "account_no": ACCOUNTS["due"]}
    )
    assert_problem(no_token, 401, "unauthorized")


def test_luhn_check_digits() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_check_digit("7992739871") == "3"
