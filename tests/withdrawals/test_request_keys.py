"""Once the bank may have paid, the Idempotency-Key stays with its withdrawal (issue 10, item 1).

Recording the bank's answer fails (a deadlock through every retry, say): the answer is
``202`` with the withdrawal open and the money held, never a ``500`` the client retries into a
second payout; a retry of the same request, even one that runs again, answers the same
withdrawal, and the bank pays once.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from ewallet.funding.withdrawals import service
from ewallet.funding.withdrawals.jobs import settle_pending_withdrawals
from ewallet.funding.withdrawals.schemas import WithdrawalOut
from ewallet.kit.errors import UpstreamUnavailableError
from ewallet.ledger.verify import verify_ledger
from ewallet.models import IdempotencyRecord
from tests.fixtures.accounts import assert_problem
from tests.fixtures.faults import deadlock, failing_once
from tests.fixtures.withdrawals import ICBC, Withdrawing


async def bank_credits(h: Withdrawing) -> list[str]:
    """The request ids of every credit in the bank's settlement file today (Beijing)."""
    day = (h.clock.now() + timedelta(hours=8)).date()
    return [row.request_id for row in await h.gateway.settlement(day) if row.kind == "credit"]


async def key_states(h: Withdrawing) -> list[str]:
    async with h.engine.connect() as conn:
        rows = await conn.execute(IdempotencyRecord.__table__.select())
        return [row.state for row in rows]


async def test_an_unrecorded_payout_is_pending_and_paid_once(
    withdrawing: Withdrawing, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000101", ICBC, "1000.00")
    recorder = failing_once(service.succeed_withdrawal, deadlock())
    monkeypatch.setattr(service, "succeed_withdrawal", recorder)
    first = await h.withdraw(user, card_id, "300.00", key="wd-unrecorded")
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["code"] == "operation_pending"
    assert body["withdrawal"]["status"] == "pending"
    withdrawal_id = body["withdrawal"]["id"]
    again = await h.withdraw(user, card_id, "300.00", key="wd-unrecorded")
    assert again.status_code == 202
    assert again.json()["withdrawal"]["id"] == withdrawal_id
    assert len(await h.rows(user)) == 1
    assert await bank_credits(h) == [f"withdrawal:{withdrawal_id}"]
    wallet = await h.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert wallet is not None
    assert (wallet.posted, wallet.available) == (1000_00, 1000_00 - 300_20)  # held, not gone
    report = await settle_pending_withdrawals(h.services)
    assert report.succeeded == [withdrawal_id]
    assert await h.balance(user) == Decimal("1000.00") - Decimal("300.20")
    assert await bank_credits(h) == [f"withdrawal:{withdrawal_id}"]
    assert (await verify_ledger(h.engine)).clean


async def test_a_500_after_the_bank_call_keeps_the_key_and_the_rerun_answers_it(
    withdrawing: Withdrawing, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000102", ICBC, "1000.00")
    of = WithdrawalOut.of

    def broken_once(cls: type[WithdrawalOut], withdrawal: Any) -> Any:
        monkeypatch.setattr(WithdrawalOut, "of", of)
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(WithdrawalOut, "of", classmethod(broken_once))
    crashed = await h.withdraw(user, card_id, "200.00", key="wd-500")
    assert_problem(crashed, 500, "internal_error")
    assert await key_states(h) == ["in_progress"]  # kept, not freed
    other = await h.withdraw(user, card_id, "200.01", key="wd-500")
    assert_problem(other, 409, "idempotency_key_reused")
    rerun = await h.withdraw(user, card_id, "200.00", key="wd-500")
    assert rerun.status_code == 201, rerun.text
    assert "idempotent-replayed" not in rerun.headers  # it ran again, and found its withdrawal
    (row,) = await h.rows(user)
    assert (rerun.json()["withdrawal"]["id"], row.status) == (row.id, "succeeded")
    assert await bank_credits(h) == [f"withdrawal:{row.id}"]
    assert await h.balance(user) == Decimal("1000.00") - Decimal("200.10")
    replay = await h.withdraw(user, card_id, "200.00", key="wd-500")
    assert replay.headers["idempotent-replayed"] == "true"
    assert (await verify_ledger(h.engine)).clean


async def test_a_bank_refusal_before_anything_happened_frees_the_key(
    withdrawing: Withdrawing, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000103", ICBC, "1000.00")
    gateway = h.gateway
    real_credit = gateway.credit

    async def unreachable(**kwargs: Any) -> Any:
        monkeypatch.setattr(gateway, "credit", real_credit)
        raise UpstreamUnavailableError("the bank could not be reached")

    monkeypatch.setattr(gateway, "credit", unreachable)
    refused = await h.withdraw(user, card_id, "50.00", key="wd-503")
    assert_problem(refused, 503, "upstream_unavailable")
    retried = await h.withdraw(user, card_id, "50.00", key="wd-503")
    assert retried.status_code == 201, retried.text
    failed, done = sorted(await h.rows(user), key=lambda row: row.status)
    assert (failed.status, failed.request_key) == ("failed", None)
    assert (done.status, done.request_key is not None) == ("succeeded", True)
    assert await bank_credits(h) == [f"withdrawal:{done.id}"]
    assert await h.balance(user) == Decimal("950.00")
