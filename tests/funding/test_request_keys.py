"""Once the bank or the PSP may have been asked, the Idempotency-Key stays with its top-up
(issue 10, item 1): the card is debited once however the request ends, and a rerun of the
same request answers the same top-up."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ewallet.funding.topups.card import service as card_topups
from ewallet.funding.topups.schemas import TopupOut
from ewallet.ledger.verify import verify_ledger
from ewallet.models import IdempotencyRecord
from tests.fixtures.accounts import assert_problem
from tests.fixtures.faults import deadlock, failing_once
from tests.fixtures.funding import Funding
from tests.funding.test_card_topups import (
    bank_debits,
    card_funding,
    card_user,
    settle,
    suspense_balance,
    top_up,
)

__all__ = ["card_funding"]


def broken_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The endpoint's answer cannot be built once: a 500 after the service's work."""
    of = TopupOut.of

    def broken(cls: type[TopupOut], topup: Any) -> Any:
        monkeypatch.setattr(TopupOut, "of", of)
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(TopupOut, "of", classmethod(broken))


async def key_states(f: Funding) -> list[str]:
    async with f.engine.connect() as conn:
        return [row.state for row in await conn.execute(IdempotencyRecord.__table__.select())]


async def test_an_unrecorded_debit_is_pending_and_credited_once(
    card_funding: Funding, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = card_funding
    user, card_id = await card_user(f)
    recorder = failing_once(card_topups.credit_card_topup, deadlock())
    monkeypatch.setattr(card_topups, "credit_card_topup", recorder)
    first = await top_up(f, user, card_id, "100.00", key="tp-unrecorded")
    assert first.status_code == 202, first.text
    assert first.json()["code"] == "operation_pending"
    topup = first.json()["topup"]
    assert topup["status"] == "pending"
    again = await top_up(f, user, card_id, "100.00", key="tp-unrecorded")
    assert again.json()["topup"]["id"] == topup["id"]
    assert len(await f.topup_rows(user)) == 1
    assert await f.balance(user) == Decimal("0.00")
    report = await settle(f)
    assert report.credited == [topup["id"]]
    assert await f.balance(user) == Decimal("100.00")
    assert await bank_debits(f, topup["id"]) == 1
    assert await suspense_balance(f) == 0
    assert (await verify_ledger(f.engine)).clean


async def test_a_500_after_the_debit_keeps_the_key_and_the_rerun_answers_it(
    card_funding: Funding, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = card_funding
    user, card_id = await card_user(f)
    broken_once(monkeypatch)
    crashed = await top_up(f, user, card_id, "60.00", key="tp-500")
    assert_problem(crashed, 500, "internal_error")
    assert await key_states(f) == ["in_progress"]
    rerun = await top_up(f, user, card_id, "60.00", key="tp-500")
    assert rerun.status_code == 201, rerun.text
    (row,) = await f.topup_rows(user)
    assert (rerun.json()["topup"]["id"], row.status) == (row.id, "succeeded")
    assert await bank_debits(f, row.id) == 1
    assert await f.balance(user) == Decimal("60.00")
    assert (await verify_ledger(f.engine)).clean


async def test_a_psp_top_up_rerun_reopens_the_same_order(
    card_funding: Funding, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = card_funding
    user = await f.user(phone="+8613812340001")
    broken_once(monkeypatch)
    crashed = await f.start(user, "alipay", "30.00", key="psp-500")
    assert_problem(crashed, 500, "internal_error")
    rerun = await f.start(user, "alipay", "30.00", key="psp-500")
    assert rerun.status_code == 201, rerun.text
    (row,) = await f.topup_rows(user)
    assert rerun.json()["topup"]["id"] == row.id
    assert rerun.json()["pay_url"]
    await f.pay("alipay", row.id)
    await f.wait_status(user, row.id, "succeeded")
    assert await f.balance(user) == Decimal("30.00")
