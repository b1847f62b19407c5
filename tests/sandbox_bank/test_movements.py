"""Debits and credits through the gateway: every behaviour, idempotency, and the query."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI

from ewallet.integrations.bank.errors import BankRequestReusedError
from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.kit.money import Money
from ewallet.sandbox.bank import Behaviour
from ewallet.sandbox.bank.movements import bank_reference
from tests.sandbox_bank.conftest import GATEWAY_TIMEOUT, KEY, SLOW_DELAY
from tests.sandbox_bank.helpers import (
    balance,
    bind,
    card_behaving,
    card_of,
    operation_count,
)

ICBC = card_of("ICBC")


async def test_an_approved_debit_and_credit_move_the_balance(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    token = await bind(gateway, bank_app, ICBC)
    debit = await gateway.debit(agreement_token=token, amount=Money(12_345), request_id="topup:1")
    assert (debit.status, debit.reason) == ("succeeded", None)
    assert debit.bank_reference == bank_reference("topup:1")
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen - 12_345
    credit = await gateway.credit(agreement_token=token, amount=Money(345), request_id="wd:1")
    assert credit.status == "succeeded"
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen - 12_000
    status = await gateway.query(request_id="wd:1")
    assert (status.status, status.kind, status.amount) == ("succeeded", "credit", Money(345))
    assert status.bank_reference == credit.bank_reference
    assert status.occurred_at is not None
    assert status.occurred_at.isoformat() == "2026-03-14T10:00:00+08:00"


async def test_the_credit_card_approves(gateway: HttpBankGateway, bank_app: FastAPI) -> None:
    credit_card = card_of("CMB")
    token = await bind(gateway, bank_app, credit_card)
    result = await gateway.debit(agreement_token=token, amount=Money(5_000), request_id="t:1")
    assert result.status == "succeeded"
    assert await balance(bank_app, credit_card) == credit_card.opening_balance_fen - 5_000


async def test_the_declining_card_declines_and_moves_nothing(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    card = card_behaving(Behaviour.DECLINE)
    token = await bind(gateway, bank_app, card)
    for move in (gateway.debit, gateway.credit):
        result = await move(agreement_token=token, amount=Money(100), request_id=f"{move}")
        assert (result.status, result.reason) == ("declined", "do_not_honor")
    assert await balance(bank_app, card) == card.opening_balance_fen
    assert (await gateway.query(request_id=f"{gateway.debit}")).status == "declined"


async def test_insufficient_funds_declines_debits_but_not_credits(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    card = card_behaving(Behaviour.INSUFFICIENT_FUNDS)
    token = await bind(gateway, bank_app, card)
    refused = await gateway.debit(agreement_token=token, amount=Money(100), request_id="t:1")
    assert (refused.status, refused.reason) == ("declined", "insufficient_funds")
    paid = await gateway.credit(agreement_token=token, amount=Money(100), request_id="w:1")
    assert paid.status == "succeeded"
    assert await balance(bank_app, card) == card.opening_balance_fen + 100


async def test_an_approving_card_declines_more_than_its_balance(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    card = card_of("BOC")
    token = await bind(gateway, bank_app, card)
    over = Money(card.opening_balance_fen + 1)
    result = await gateway.debit(agreement_token=token, amount=over, request_id="t:1")
    assert (result.status, result.reason) == ("declined", "insufficient_funds")
    exact = Money(card.opening_balance_fen)
    assert (await gateway.debit(agreement_token=token, amount=exact, request_id="t:2")).status == (
        "succeeded"
    )
    assert await balance(bank_app, card) == 0


@pytest.mark.parametrize("by", ["card", "amount"])
async def test_a_timeout_is_unknown_and_the_bank_committed_nothing(
    gateway: HttpBankGateway, bank_app: FastAPI, by: str
) -> None:
    card = card_behaving(Behaviour.TIMEOUT) if by == "card" else ICBC
    amount = Money(10_000) if by == "card" else Money(10_051)
    token = await bind(gateway, bank_app, card)
    began = time.monotonic()
    result = await gateway.debit(agreement_token=token, amount=amount, request_id="t:1")
    assert time.monotonic() - began >= GATEWAY_TIMEOUT * 0.9
    assert (result.status, result.reason, result.bank_reference) == ("unknown", "timeout", None)
    assert (await gateway.query(request_id="t:1")).status == "not_found"
    assert await balance(bank_app, card) == card.opening_balance_fen


@pytest.mark.parametrize("by", ["card", "amount"])
async def test_a_slow_answer_within_the_timeout_succeeds(
    gateway: HttpBankGateway, bank_app: FastAPI, by: str
) -> None:
    card = card_behaving(Behaviour.SLOW) if by == "card" else ICBC
    amount = Money(10_000) if by == "card" else Money(10_055)
    token = await bind(gateway, bank_app, card)
    began = time.monotonic()
    result = await gateway.debit(agreement_token=token, amount=amount, request_id="t:1")
    assert time.monotonic() - began >= SLOW_DELAY
    assert result.status == "succeeded"
    assert await balance(bank_app, card) == card.opening_balance_fen - amount.minor


@pytest.mark.parametrize(
    ("behaviour", "amount", "reason"),
    [
        (Behaviour.ERROR_AFTER_COMMIT, 10_000, "bank_http_500"),
        (Behaviour.DROP_AFTER_COMMIT, 10_000, "connection_lost"),
        (Behaviour.APPROVE, 10_052, "bank_http_500"),
        (Behaviour.APPROVE, 10_056, "connection_lost"),
    ],
)
async def test_an_error_after_the_commit_is_unknown_but_the_query_shows_success(
    gateway: HttpBankGateway, bank_app: FastAPI, behaviour: Behaviour, amount: int, reason: str
) -> None:
    card = ICBC if behaviour is Behaviour.APPROVE else card_behaving(behaviour)
    token = await bind(gateway, bank_app, card)
    result = await gateway.debit(agreement_token=token, amount=Money(amount), request_id="t:1")
    assert (result.status, result.reason) == ("unknown", reason)
    status = await gateway.query(request_id="t:1")
    assert (status.status, status.amount) == ("succeeded", Money(amount))
    assert await balance(bank_app, card) == card.opening_balance_fen - amount
    # Retrying with the same id learns the outcome and moves nothing again.
    retried = await gateway.debit(agreement_token=token, amount=Money(amount), request_id="t:1")
    assert (retried.status, retried.bank_reference) == ("succeeded", status.bank_reference)
    assert await balance(bank_app, card) == card.opening_balance_fen - amount
    assert await operation_count(bank_app) == 1


@pytest.mark.parametrize(
    ("amount", "reason"), [(10_053, "do_not_honor"), (10_054, "insufficient_funds")]
)
async def test_amounts_choose_declines_on_an_approving_card(
    gateway: HttpBankGateway, bank_app: FastAPI, amount: int, reason: str
) -> None:
    token = await bind(gateway, bank_app, ICBC)
    result = await gateway.debit(agreement_token=token, amount=Money(amount), request_id="t:1")
    assert (result.status, result.reason) == ("declined", reason)
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen


async def test_the_same_request_id_moves_money_once(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    token = await bind(gateway, bank_app, ICBC)
    first = await gateway.debit(agreement_token=token, amount=Money(700), request_id="topup:7")
    second = await gateway.debit(agreement_token=token, amount=Money(700), request_id="topup:7")
    assert (first.status, first.bank_reference) == (second.status, second.bank_reference)
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen - 700
    assert await operation_count(bank_app) == 1


async def test_concurrent_retries_of_one_request_move_money_once(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    token = await bind(gateway, bank_app, ICBC)
    results = await asyncio.gather(
        *(
            gateway.debit(agreement_token=token, amount=Money(900), request_id="topup:9")
            for _ in range(6)
        )
    )
    assert {(result.status, result.bank_reference) for result in results} == {
        ("succeeded", bank_reference("topup:9"))
    }
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen - 900
    assert await operation_count(bank_app) == 1


async def test_the_same_request_id_with_another_body_is_refused(
    gateway: HttpBankGateway, bank_app: FastAPI, raw: httpx.AsyncClient
) -> None:
    token = await bind(gateway, bank_app, ICBC)
    await gateway.debit(agreement_token=token, amount=Money(700), request_id="topup:7")
    with pytest.raises(BankRequestReusedError):
        await gateway.debit(agreement_token=token, amount=Money(701), request_id="topup:7")
    with pytest.raises(BankRequestReusedError):
        await gateway.credit(agreement_token=token, amount=Money(700), request_id="topup:7")
    body = {"agreement_token": token, "amount_fen": 1, "request_id": "topup:7"}
    response = await raw.post("/debits", json=body, headers={"X-Bank-Key": KEY})
    assert (response.status_code, response.json()["code"]) == (409, "request_id_reused")
    assert await balance(bank_app, ICBC) == ICBC.opening_balance_fen - 700
    assert await operation_count(bank_app) == 1


async def test_an_unknown_agreement_is_declined(gateway: HttpBankGateway) -> None:
    result = await gateway.debit(agreement_token="agr_nope", amount=Money(1), request_id="t:1")
    assert (result.status, result.reason) == ("declined", "agreement_not_found")


async def test_a_query_for_an_unseen_id_is_not_found(gateway: HttpBankGateway) -> None:
    status = await gateway.query(request_id="topup:never/with slash")
    assert (status.status, status.kind, status.amount) == ("not_found", None, None)


async def test_the_gateway_moves_positive_yuan_only(gateway: HttpBankGateway) -> None:
    with pytest.raises(ValueError, match="CNY"):
        await gateway.debit(agreement_token="agr_x", amount=Money(100, "USD"), request_id="t:1")
    with pytest.raises(ValueError, match="positive"):
        await gateway.credit(agreement_token="agr_x", amount=Money(0), request_id="t:2")
