"""A payment whose answer was lost in a crash is answered, not refused (issue 10, chaos).

The API process dies after the payment's unit committed and before the key's answer was
stored; once the lease runs out, the client's retry (same key and body) runs again. It must
answer the same payment (``201``), not ``409 order_not_payable`` for the order it paid
itself, without a second PIN check or a second debit. The payment-code confirmation is the
same. Merchant charges and refunds are keyed by ``out_trade_no``/``out_refund_no``: their
rerun answers the same charge or refund (``200``, as any repeat of that number). A payment
from the balance now writes its key's answer in its own unit (#17), so there the retry is a
replay of that record; the crash this file was written for stays possible where the answer
is stored afterwards (a card-funded payment, a payment-code confirmation).
"""

from __future__ import annotations

from typing import Any

import pytest

from ewallet.ledger.verify import verify_ledger
from ewallet.payments import service as paying
from ewallet.payments.payment_codes.service import confirmations as code_charging
from tests.fixtures.accounts import assert_problem
from tests.fixtures.lost_answers import answers_lost, lease_runs_out
from tests.fixtures.payment_codes import charge, confirm, show_code
from tests.fixtures.pin_checks import count_pin_checks
from tests.fixtures.shop import Shop, payments, refunds


async def test_a_retry_after_a_crash_answers_the_same_payment(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000701", "100.00")
    order_id = await shop.order(merchant, "23.15")
    pin_checks = count_pin_checks(monkeypatch, paying)
    with answers_lost(monkeypatch):
        first = await shop.pay(user, order_id, key="crash-pay")
    assert first.status_code == 201, first.text
    lease_runs_out(shop.clock)
    # A balance payment's key is recorded with it, in its unit (docs/http.md, "Claimed in
    # the unit"): the answer the crash lost is there, and the retry is its replay.
    retried = await shop.pay(user, order_id, key="crash-pay")
    assert retried.status_code == 201, retried.text  # not 409 order_not_payable
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json() == first.json()
    assert pin_checks == [user.id]  # the rerun asked for no PIN
    assert await shop.count(payments) == 1
    assert await shop.wallet(user) == 100_00 - 23_15
    assert await shop.merchant_balance(merchant) == 23_15 - 9  # the fee: 8.797 fen
    replay = await shop.pay(user, order_id, key="crash-pay")
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    # Another body with the key is still refused.
    other_order = await shop.order(merchant, "1.00")
    reused = await shop.pay(user, other_order, key="crash-pay")
    assert_problem(reused, 409, "idempotency_key_reused")
    # Another key for the paid order is another request: the order is not payable.
    again = await shop.pay(user, order_id, key="another-key")
    assert_problem(again, 409, "order_not_payable")
    assert await shop.count(payments) == 1
    assert await shop.wallet(user) == 100_00 - 23_15
    assert (await verify_ledger(shop.engine)).clean


async def test_a_rerun_racing_its_first_run_answers_its_payment(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rerun looked before its first run committed, then lost the order to it."""
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000702", "100.00")
    order_id = await shop.order(merchant, "43.33")
    with answers_lost(monkeypatch):
        first = await shop.pay(user, order_id, key="race-pay")
    lease_runs_out(shop.clock)
    real = paying.payment_for_request
    looks: list[bool] = []

    async def too_early(*args: Any, **kwargs: Any) -> Any:
        looks.append(True)
        return None if len(looks) == 1 else await real(*args, **kwargs)

    monkeypatch.setattr(paying, "payment_for_request", too_early)
    retried = await shop.pay(user, order_id, key="race-pay")
    assert retried.status_code == 201, retried.text
    assert retried.json() == first.json()
    assert len(looks) == 2
    assert await shop.count(payments) == 1
    assert await shop.wallet(user) == 100_00 - 43_33
    assert (await verify_ledger(shop.engine)).clean


async def test_a_confirmation_retried_after_a_crash_answers_its_payment(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000703", "3000.00")
    code = await show_code(shop, user)
    pending = await charge(shop, merchant, code, "1500.00", out_trade_no="big-crash")
    challenge_id = assert_problem(pending, 401, "step_up_required")["challenge_id"]
    pin_checks = count_pin_checks(monkeypatch, code_charging)
    with answers_lost(monkeypatch):
        first = await confirm(shop, user, challenge_id, key="crash-confirm")
    assert first.status_code == 201, first.text
    lease_runs_out(shop.clock)
    retried = await confirm(shop, user, challenge_id, key="crash-confirm")
    assert retried.status_code == 201, retried.text  # not 409 order_not_payable
    assert retried.json() == first.json()
    assert pin_checks == [user.id]
    assert await shop.count(payments) == 1
    assert await shop.wallet(user) == 1500_00
    other = await confirm(shop, user, challenge_id, key="another-key")
    assert_problem(other, 409, "order_not_payable")
    assert (await verify_ledger(shop.engine)).clean


async def test_merchant_charges_and_refunds_retried_after_a_crash_answer_the_same(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000704", "100.00")
    code = await show_code(shop, user)
    with answers_lost(monkeypatch):
        charged = await charge(shop, merchant, code, "30.00", out_trade_no="C-1", key="c")
    assert charged.status_code == 201, charged.text
    lease_runs_out(shop.clock)
    again = await charge(shop, merchant, code, "30.00", out_trade_no="C-1", key="c")
    # The charge's key is recorded with the charge, in its unit (docs/http.md, "Claimed in
    # the unit"): no answer to lose, the retry is a replay of it.
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.content == charged.content
    # Under another key it is a repeat of C-1: the same charge.
    repeat_charge = await charge(shop, merchant, code, "30.00", out_trade_no="C-1", key="c2")
    assert repeat_charge.status_code == 200, repeat_charge.text
    assert repeat_charge.json()["charge"]["id"] == charged.json()["charge"]["id"]
    assert repeat_charge.json()["charge"]["status"] == "succeeded"
    order_id = charged.json()["charge"]["order"]["id"]
    with answers_lost(monkeypatch):
        refunded = await shop.refund(merchant, order_id, "10.00", "R-1")
    assert refunded.status_code == 201, refunded.text
    lease_runs_out(shop.clock)
    repeat = await shop.refund(merchant, order_id, "10.00", "R-1")
    assert repeat.status_code == 200, repeat.text  # a repeat of R-1: the same refund
    assert repeat.json()["refund"]["id"] == refunded.json()["refund"]["id"]
    assert await shop.count(payments) == 1
    assert await shop.count(refunds) == 1
    assert await shop.wallet(user) == 100_00 - 30_00 + 10_00
    # Fee 11 fen on 30.00; the 10.00 refund returned floor(11 / 3) = 3 of it.
    assert await shop.merchant_balance(merchant) == 20_00 - 11 + 3
    assert (await verify_ledger(shop.engine)).clean
