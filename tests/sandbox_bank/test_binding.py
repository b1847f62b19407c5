"""Binding through the gateway: the bank checks the holder, texts a code, trades it for a token."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from ewallet.integrations.bank.errors import (
    BankCodeAttemptsExhaustedError,
    BankCodeExpiredError,
    BankCodeInvalidError,
    BankDeclinedError,
    BankRequestReusedError,
)
from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.sandbox.bank import sandbox_bank_of
from tests.sandbox_bank.conftest import KEY
from tests.sandbox_bank.helpers import bind, card_of, latest_code

ICBC = card_of("ICBC")


async def start(gateway: HttpBankGateway, request_id: str = "bind:1", **changes: str) -> None:
    details = {
        "card_number": ICBC.number,
        "holder_name": ICBC.holder_name,
        "id_number": ICBC.id_number,
        "bank_phone": ICBC.bank_phone,
        **changes,
    }
    await gateway.start_binding(request_id=request_id, **details)


async def test_right_details_get_a_code_and_the_code_gets_a_token(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    started = await gateway.start_binding(
        card_number="6212 2602 0000 1234 562",  # as people type it
        holder_name=ICBC.holder_name,
        id_number=ICBC.id_number,
        bank_phone="+86 138 0013 8001",
        request_id="bind:1",
    )
    assert started.bank_phone_masked == "138****8001"
    assert started.expires_in_seconds == 300
    (text,) = await sandbox_bank_of(bank_app).sent_sms()
    assert (text.phone, text.sender) == ("+8613800138001", "中国工商银行")
    assert text.code is not None
    assert text.code in text.body
    assert "1234" not in text.body  # only the last four: 4562
    assert "4562" in text.body

    bound = await gateway.confirm_binding(request_id="bind:1", code=text.code)
    assert bound.agreement_token.startswith("agr_")
    assert (bound.bank_code, bound.bank_name, bound.card_type, bound.last4) == (
        "ICBC",
        "中国工商银行",
        "debit",
        "4562",
    )
    # Confirming again (an answer lost on the way) returns the same agreement.
    again = await gateway.confirm_binding(request_id="bind:1", code=text.code)
    assert again == bound


async def test_starting_again_with_the_same_id_sends_no_second_text(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    await start(gateway)
    await start(gateway)
    assert len(await sandbox_bank_of(bank_app).sent_sms()) == 1
    with pytest.raises(BankRequestReusedError):
        await start(gateway, card_number=card_of("CCB").number)


@pytest.mark.parametrize(
    ("field", "wrong"),
    [("holder_name", "张卫"), ("id_number", "110101198503121247"), ("bank_phone", "13800138999")],
)
async def test_wrong_details_are_refused_and_nothing_is_texted(
    gateway: HttpBankGateway, bank_app: FastAPI, raw: httpx.AsyncClient, field: str, wrong: str
) -> None:
    with pytest.raises(BankDeclinedError) as refused:
        await start(gateway, **{field: wrong})
    assert refused.value.extra == {"reason": "card_info_mismatch"}
    assert await sandbox_bank_of(bank_app).sent_sms() == []
    # The sandbox tells the developer which detail differs (the gateway keeps it inside).
    body = {
        "card_number": ICBC.number,
        "holder_name": ICBC.holder_name,
        "id_number": ICBC.id_number,
        "bank_phone": ICBC.bank_phone,
        "request_id": "bind:raw",
        field: wrong,
    }
    response = await raw.post("/bind", json=body, headers={"X-Bank-Key": KEY})
    assert response.status_code == 422
    assert response.json()["code"] == "card_info_mismatch"
    assert response.json()["fields"] == [field]


async def test_the_id_number_check_letter_may_be_lower_case(gateway: HttpBankGateway) -> None:
    credit = card_of("CMB")
    assert credit.id_number.endswith("X")
    await gateway.start_binding(
        card_number=credit.number,
        holder_name=credit.holder_name,
        id_number=credit.id_number.lower(),
        bank_phone=credit.bank_phone,
        request_id="bind:x",
    )


async def test_a_card_the_bank_did_not_issue_is_not_found(gateway: HttpBankGateway) -> None:
    with pytest.raises(BankDeclinedError) as refused:
        await start(gateway, card_number="6212260200001234570")  # valid Luhn, no account
    assert refused.value.extra == {"reason": "card_not_found"}


async def test_wrong_codes_count_down_and_the_right_one_still_works(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    await start(gateway)
    code = await latest_code(bank_app, ICBC)
    wrong = "000000" if code != "000000" else "111111"
    for remaining in (4, 3, 2, 1):
        with pytest.raises(BankCodeInvalidError) as refused:
            await gateway.confirm_binding(request_id="bind:1", code=wrong)
        assert refused.value.extra == {"remaining_attempts": remaining}
    bound = await gateway.confirm_binding(request_id="bind:1", code=code)
    assert bound.last4 == "4562"


async def test_the_fifth_wrong_code_kills_the_binding(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    await start(gateway)
    code = await latest_code(bank_app, ICBC)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(BankCodeInvalidError):
            await gateway.confirm_binding(request_id="bind:1", code=wrong)
    with pytest.raises(BankCodeAttemptsExhaustedError) as refused:
        await gateway.confirm_binding(request_id="bind:1", code=wrong)
    assert refused.value.extra == {"retry_after": 0}
    with pytest.raises(BankCodeAttemptsExhaustedError):
        await gateway.confirm_binding(request_id="bind:1", code=code)
    # A new binding may start at once.
    await start(gateway, request_id="bind:2")
    bound = await gateway.confirm_binding(
        request_id="bind:2", code=await latest_code(bank_app, ICBC)
    )
    assert bound.agreement_token


async def test_an_expired_or_unknown_binding_needs_a_new_start(
    gateway: HttpBankGateway, bank_app: FastAPI, bank_clock: FrozenClock
) -> None:
    await start(gateway)
    code = await latest_code(bank_app, ICBC)
    bank_clock.advance(timedelta(minutes=5))
    with pytest.raises(BankCodeExpiredError):
        await gateway.confirm_binding(request_id="bind:1", code=code)
    with pytest.raises(BankCodeExpiredError):
        await gateway.confirm_binding(request_id="bind:unknown", code=code)


async def test_a_confirmed_binding_refuses_another_code(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    await start(gateway)
    code = await latest_code(bank_app, ICBC)
    await gateway.confirm_binding(request_id="bind:1", code=code)
    with pytest.raises(BankCodeExpiredError):
        await gateway.confirm_binding(request_id="bind:1", code=f"{(int(code) + 1) % 10**6:06d}")


async def test_unbinding_revokes_the_agreement_and_is_idempotent(
    gateway: HttpBankGateway, bank_app: FastAPI
) -> None:
    token = await bind(gateway, bank_app, ICBC)
    await gateway.unbind(agreement_token=token)
    await gateway.unbind(agreement_token=token)
    await gateway.unbind(agreement_token="agr_never_issued")
    result = await gateway.debit(agreement_token=token, amount=Money(100), request_id="d:1")
    assert (result.status, result.reason) == ("declined", "agreement_revoked")


async def test_the_sms_list_filters_by_phone_in_any_format(
    gateway: HttpBankGateway, bank_app: FastAPI, raw: httpx.AsyncClient
) -> None:
    await bind(gateway, bank_app, ICBC)
    await bind(gateway, bank_app, card_of("CCB"))
    response = await raw.get("/sms", params={"phone": "138 0013 8001"})
    assert response.status_code == 200
    assert [item["phone"] for item in response.json()] == ["+8613800138001"]
    assert len((await raw.get("/sms")).json()) == 2
    assert (await raw.get("/sms", params={"phone": "12"})).status_code == 422
