"""A merchant's charge in one unit of work, its Idempotency-Key record included (#17).

The common charge writes the key's record with its answer in the unit that moves the
money (docs/http.md, "Claimed in the unit"), and checks the merchant's key there instead
of in a transaction of its own. What that must not change: a revoked key or a disabled
merchant is refused by the very next request; a refusal is replayed under its key; the
same key with another body is ``idempotency_key_reused``; a unit that fails leaves no
record, so the key is free and the code unused.
"""

from __future__ import annotations

import pytest

from ewallet.audit.service import Actor
from ewallet.merchants.keys import key_id_of
from ewallet.merchants.service import revoke_api_key, update_merchant
from ewallet.payments.payment_codes.service import charges
from tests.fixtures.accounts import assert_problem
from tests.fixtures.lost_answers import key_records
from tests.fixtures.payment_codes import Shop, charge, everything, show_code


async def test_the_answer_sent_is_the_answer_recorded_and_replayed(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000601", "50.00")
    code = await show_code(shop, user)
    first = await charge(shop, merchant, code, "5.00", out_trade_no="U-1", key="k-1")
    assert first.status_code == 201, first.text
    assert first.headers["content-type"] == "application/json"
    replay = await charge(shop, merchant, code, "5.00", out_trade_no="U-1", key="k-1")
    assert (replay.status_code, replay.content) == (201, first.content)
    assert replay.headers["Idempotent-Replayed"] == "true"
    other_body = await charge(shop, merchant, code, "6.00", out_trade_no="U-1", key="k-1")
    assert_problem(other_body, 409, "idempotency_key_reused")
    # Another body that would make a charge of its own: made in its unit, then rolled back
    # when the key's record is found -- nothing is charged.
    fresh = await show_code(shop, user)
    before = await everything(shop, user)
    elsewhere = await charge(shop, merchant, fresh, "7.00", out_trade_no="U-9", key="k-1")
    assert_problem(elsewhere, 409, "idempotency_key_reused")
    assert await everything(shop, user) == before
    assert await shop.wallet(user) == 45_00


async def test_a_refusal_is_recorded_and_replayed_under_its_key(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000602", "1.00")
    code = await show_code(shop, user)
    before = await everything(shop, user)
    short = await charge(shop, merchant, code, "5.00", out_trade_no="U-2", key="k-2")
    assert_problem(short, 402, "insufficient_balance")
    assert await everything(shop, user) == before
    await shop.fund(user, "10.00")  # the same request again is the same answer
    again = await charge(shop, merchant, code, "5.00", out_trade_no="U-2", key="k-2")
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (402, "true")
    assert await shop.wallet(user) == 11_00


async def test_a_revoked_key_and_a_disabled_merchant_are_refused_at_once(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000603", "50.00")
    assert (await charge(shop, merchant, await show_code(shop, user), "1.00")).status_code == 201
    key_id = key_id_of(merchant.api_key)
    assert key_id is not None
    await revoke_api_key(
        shop.services, Actor.system(), merchant_id=merchant.merchant.id, key_id=key_id
    )
    code = await show_code(shop, user)
    before = await everything(shop, user)
    assert_problem(await charge(shop, merchant, code, "2.00"), 401, "unauthorized")
    assert await everything(shop, user) == before

    other = await shop.merchant("Closing Shop")
    assert (await charge(shop, other, code, "2.00", out_trade_no="C-1")).status_code == 201
    await update_merchant(
        shop.services, Actor.system(), merchant_id=other.merchant.id, changes={"status": "disabled"}
    )
    code = await show_code(shop, user)
    before = await everything(shop, user)
    assert_problem(await charge(shop, other, code, "2.00", out_trade_no="C-2"), 401, "unauthorized")
    assert await everything(shop, user) == before


async def test_a_unit_that_fails_leaves_no_record_and_the_key_free(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000604", "50.00")
    code = await show_code(shop, user)
    before, kept = await everything(shop, user), await key_records(shop.engine)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the process died here")

    with monkeypatch.context() as patched:
        patched.setattr(charges, "_insert_charge", broken)
        crashed = await charge(shop, merchant, code, "3.00", out_trade_no="U-4", key="k-4")
        assert_problem(crashed, 500, "internal_error")
    assert (await everything(shop, user), await key_records(shop.engine)) == (before, kept)
    retried = await charge(shop, merchant, code, "3.00", out_trade_no="U-4", key="k-4")
    assert retried.status_code == 201, retried.text
    assert await shop.wallet(user) == 47_00
