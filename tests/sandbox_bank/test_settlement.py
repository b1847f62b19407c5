"""The settlement file lists exactly the day's succeeded operations, by the bank's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from fastapi import FastAPI

from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.integrations.bank.port import SettlementRow
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.sandbox.bank import Behaviour
from tests.sandbox_bank.conftest import KEY
from tests.sandbox_bank.helpers import bind, card_behaving, card_of

DAY = date(2026, 3, 14)


async def test_the_file_holds_the_succeeded_operations_of_the_day(
    gateway: HttpBankGateway, bank_app: FastAPI, bank_clock: FrozenClock
) -> None:
    icbc = await bind(gateway, bank_app, card_of("ICBC"))
    declining = await bind(gateway, bank_app, card_behaving(Behaviour.DECLINE))
    failing = await bind(gateway, bank_app, card_behaving(Behaviour.ERROR_AFTER_COMMIT))
    # 23:59:59 in Beijing is still the 14th; midnight there starts the 15th.
    bank_clock.set(datetime(2026, 3, 14, 15, 59, 59, tzinfo=UTC))
    sent = [
        await gateway.debit(agreement_token=icbc, amount=Money(1_000), request_id="topup:a"),
        await gateway.credit(agreement_token=icbc, amount=Money(250), request_id="wd:b"),
        await gateway.debit(agreement_token=declining, amount=Money(5), request_id="topup:c"),
        await gateway.debit(agreement_token=icbc, amount=Money(10_051), request_id="topup:d"),
        await gateway.debit(agreement_token=failing, amount=Money(300), request_id="topup:e"),
    ]
    assert [result.status for result in sent] == [
        "succeeded",
        "succeeded",
        "declined",
        "unknown",  # a timeout: nothing committed
        "unknown",  # an error after the commit: it did succeed
    ]
    bank_clock.set(datetime(2026, 3, 14, 16, 0, tzinfo=UTC))
    await gateway.debit(agreement_token=icbc, amount=Money(77), request_id="topup:next-day")

    rows = await gateway.settlement(DAY)
    expected = []
    for request_id in ("topup:a", "wd:b", "topup:e"):
        status = await gateway.query(request_id=request_id)
        assert status.status == "succeeded"
        assert status.kind is not None
        assert status.amount is not None
        assert status.bank_reference is not None
        assert status.occurred_at is not None
        expected.append(
            SettlementRow(
                request_id=request_id,
                kind=status.kind,
                amount=status.amount,
                status="succeeded",
                bank_reference=status.bank_reference,
                occurred_at=status.occurred_at,
            )
        )
    assert rows == expected
    assert rows[0].occurred_at.isoformat() == "2026-03-14T23:59:59+08:00"
    (next_day,) = await gateway.settlement(DAY + timedelta(days=1))
    assert (next_day.request_id, next_day.amount) == ("topup:next-day", Money(77))
    assert await gateway.settlement(DAY - timedelta(days=1)) == []


async def test_the_file_is_csv_with_a_header(
    gateway: HttpBankGateway, bank_app: FastAPI, raw: httpx.AsyncClient
) -> None:
    token = await bind(gateway, bank_app, card_of("CCB"))
    result = await gateway.debit(agreement_token=token, amount=Money(4_200), request_id="topup:1")
    response = await raw.get(f"/settlement/{DAY}", headers={"X-Bank-Key": KEY})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines() == [
        "request_id,type,amount_fen,status,bank_reference,occurred_at",
        f"topup:1,debit,4200,succeeded,{result.bank_reference},2026-03-14T10:00:00+08:00",
    ]
    bad = await raw.get("/settlement/2026-13-01", headers={"X-Bank-Key": KEY})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
