"""Every call that binds or moves money needs the merchant key; the help pages do not."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.kit.errors import UpstreamUnavailableError
from ewallet.kit.money import Money
from tests.sandbox_bank.conftest import GATEWAY_TIMEOUT, KEY
from tests.sandbox_bank.helpers import bind, card_of, operation_count

OPEN = {("GET", "/"), ("GET", "/test-cards"), ("GET", "/sms")}


def operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, concrete path) of the bank, through its included routers."""
    found: list[tuple[str, str]] = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path:
            path = re.sub(r"\{[^}]+\}", "2026-03-14", context.path)
            found.extend((method, path) for method in context.methods or () if method != "HEAD")
    return sorted(found)


async def test_without_or_with_a_wrong_key_the_bank_answers_401(
    bank_app: FastAPI, raw: httpx.AsyncClient
) -> None:
    keyed = [operation for operation in operations(bank_app) if operation not in OPEN]
    assert ("POST", "/debits") in keyed
    assert ("POST", "/payouts") in keyed
    assert ("POST", "/name-checks") in keyed
    assert len(keyed) == 9
    for method, path in keyed:
        for headers in ({}, {"X-Bank-Key": "wrong"}):
            response = await raw.request(method, path, json={}, headers=headers)
            assert (response.status_code, response.json()["code"]) == (401, "unauthorized"), path
    for method, path in OPEN:
        assert (await raw.request(method, path)).status_code == 200


async def test_a_gateway_with_the_wrong_key_reports_the_bank_unavailable(
    bank_app: FastAPI, gateway: HttpBankGateway
) -> None:
    token = await bind(gateway, bank_app, card_of("ICBC"))
    wrong = HttpBankGateway.in_process(bank_app, key=KEY + "x", timeout=GATEWAY_TIMEOUT)
    try:
        with pytest.raises(UpstreamUnavailableError, match="merchant key"):
            await wrong.debit(agreement_token=token, amount=Money(100), request_id="t:1")
        with pytest.raises(UpstreamUnavailableError, match="merchant key"):
            await wrong.query(request_id="t:1")
    finally:
        await wrong.aclose()
    assert await operation_count(bank_app) == 0


async def test_malformed_requests_are_refused_before_anything_moves(
    bank_app: FastAPI, gateway: HttpBankGateway, raw: httpx.AsyncClient
) -> None:
    token = await bind(gateway, bank_app, card_of("ICBC"))
    headers = {"X-Bank-Key": KEY}
    for amount in ("100", 1.5, 0, -1, None):
        body = {"agreement_token": token, "amount_fen": amount, "request_id": "t:1"}
        response = await raw.post("/debits", json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    extra = {"agreement_token": token, "amount_fen": 1, "request_id": "t:1", "memo": "x"}
    assert (await raw.post("/debits", json=extra, headers=headers)).status_code == 422
    assert await operation_count(bank_app) == 0
