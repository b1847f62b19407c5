"""Once a bill is charged, the Idempotency-Key stays with its payment (issue 10, item 1): a
failure after the charge answers the payment pending, never a 500 that a retry turns into a
second charge; a rerun of the same request answers the same payment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ewallet.bills import delivery as bills_service
from ewallet.bills.schemas import BillPaymentOut
from ewallet.ledger.verify import verify_ledger
from ewallet.models import IdempotencyRecord
from tests.bills.conftest import ACCOUNTS, PIN, RETRY_SECONDS, Billing, bill_payments, fund
from tests.fixtures.accounts import assert_problem
from tests.fixtures.faults import deadlock, failing_once


async def key_states(b: Billing) -> list[str]:
    async with b.engine.connect() as conn:
        return [row.state for row in await conn.execute(IdempotencyRecord.__table__.select())]


async def test_an_unrecorded_confirmation_is_pending_and_charged_once(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "200.00")
    recorder = failing_once(bills_service.succeed_payment, deadlock())
    monkeypatch.setattr(bills_service, "succeed_payment", recorder)
    first = await billing.pay(user, ACCOUNTS["due"], "50.00", key="bill-unrecorded")
    assert first.status_code == 202, first.text
    assert first.json()["code"] == "operation_pending"
    payment = first.json()["bill_payment"]
    assert payment["status"] == "pending"
    again = await billing.pay(user, ACCOUNTS["due"], "50.00", key="bill-unrecorded")
    assert again.json()["bill_payment"]["id"] == payment["id"]
    assert await billing.count(bill_payments) == 1
    assert await billing.sandbox.count_payments() == 1
    assert await billing.balance(user) == 150_00
    billing.clock.advance(timedelta(seconds=RETRY_SECONDS + 1))
    assert await billing.relay().drain() == 1  # the queued delivery finishes it
    done = await billing.client.get(
        f"/v1/bill-payments/{payment['id']}", headers=billing.auth(user)
    )
    assert done.json()["bill_payment"]["status"] == "succeeded"
    assert await billing.sandbox.count_payments() == 1
    assert await billing.balance(user) == 150_00
    assert (await verify_ledger(billing.engine)).clean


async def test_a_500_after_the_charge_keeps_the_key_and_the_rerun_answers_it(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "200.00")
    of = BillPaymentOut.of

    def broken(cls: type[BillPaymentOut], payment: Any) -> Any:
        monkeypatch.setattr(BillPaymentOut, "of", of)
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(BillPaymentOut, "of", classmethod(broken))
    crashed = await billing.pay(user, ACCOUNTS["due"], "40.00", key="bill-500")
    assert_problem(crashed, 500, "internal_error")
    assert await key_states(billing) == ["in_progress"]
    rerun = await billing.pay(user, ACCOUNTS["due"], "40.00", key="bill-500")
    assert rerun.status_code == 201, rerun.text
    assert rerun.json()["bill_payment"]["status"] == "succeeded"
    assert await billing.count(bill_payments) == 1
    assert await billing.sandbox.count_payments() == 1
    assert await billing.balance(user) == 160_00
    assert (await verify_ledger(billing.engine)).clean
