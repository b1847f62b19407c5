"""Payouts to an account number with a name check, through the gateway: the settlement
of merchants and billers. The same behaviours and idempotency as credits."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI

from ewallet.integrations.bank.errors import BankRequestReusedError
from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.integrations.bank.port import PayoutResult
from ewallet.kit.money import Money
from ewallet.sandbox.bank import Behaviour
from tests.sandbox_bank.conftest import GATEWAY_TIMEOUT
from tests.sandbox_bank.helpers import balance, card_behaving, card_of, operation_count

ICBC = card_of("ICBC")


async def pay(
    gateway: HttpBankGateway, number: str, name: str, fen: int, request_id: str
) -> PayoutResult:
    return await gateway.payout(
        account_number=number, holder_name=name, amount=Money(fen), request_id=request_id
    )


async def test_a_payout_to_the_holders_account_is_paid_once(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    paid = await pay(gateway, ICBC.number, ICBC.holder_name, 12_300, "payout:1")
    assert (paid.status, paid.reason) == ("succeeded", None)
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen + 12_300
    again = await pay(gateway, ICBC.number, ICBC.holder_name, 12_300, "payout:1")
    assert (again.status, again.bank_reference) == ("succeeded", paid.bank_reference)
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen + 12_300
    status = await gateway.query(request_id="payout:1")
    assert (status.status, status.kind, status.amount) == ("succeeded", "payout", Money(12_300))
    with pytest.raises(BankRequestReusedError):
        await pay(gateway, ICBC.number, ICBC.holder_name, 1, "payout:1")
    assert status.occurred_at is not None
    rows = await gateway.settlement(status.occurred_at.date())
    assert [(r.request_id, r.kind, r.amount.minor) for r in rows] == [
        ("payout:1", "payout", 12_300)
    ]


async def test_a_name_that_is_not_the_holders_or_an_unknown_account_is_declined(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    wrong = await pay(gateway, ICBC.number, "王芳", 100, "payout:2")
    assert (wrong.status, wrong.reason) == ("declined", "name_mismatch")
    spaced = await pay(gateway, ICBC.number, " 张 伟 ", 100, "payout:3")
    assert spaced.status == "succeeded"  # spaces do not make another name
    unknown = await pay(gateway, "6212260200009999999", "张伟", 100, "payout:4")
    assert (unknown.status, unknown.reason) == ("declined", "account_not_found")
    assert (await gateway.query(request_id="payout:2")).status == "declined"
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen + 100


async def test_behaviours_act_as_for_credits(gateway: HttpBankGateway, bank_app: FastAPI) -> None:
    declining = card_behaving(Behaviour.DECLINE)
    declined = await pay(gateway, declining.number, declining.holder_name, 100, "payout:5")
    assert (declined.status, declined.reason) == ("declined", "do_not_honor")
    started = time.perf_counter()
    timed_out = await pay(gateway, ICBC.number, ICBC.holder_name, 151, "payout:6")
    assert timed_out.status == "unknown"
    assert time.perf_counter() - started < GATEWAY_TIMEOUT + 1
    assert (await gateway.query(request_id="payout:6")).status == "not_found"
    dropped = await pay(gateway, ICBC.number, ICBC.holder_name, 156, "payout:7")
    assert dropped.status == "unknown"
    assert (await gateway.query(request_id="payout:7")).status == "succeeded"
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen + 156
    assert await operation_count(bank_app) == 2  # declined, dropped; the timeout left nothing
