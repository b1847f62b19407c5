"""Each default rule fires at its boundary and not one fen, one second or one count before,
through the spend seam, on both databases; each clause of the tuned conditions
(docs/performance.md, "Quality") has its own boundary (money in through the top-up route,
sign-in and the watch list: test_inflows.py, test_sign_in.py, test_watchlist_transfers.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from ewallet.kit.clock import FrozenClock
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.models.risk import RuleMode, Verdict
from ewallet.models.spending import SpendChannel
from ewallet.models.tables import topups
from ewallet.risk.rules.engine import Outcome, RiskSettings, evaluate
from ewallet.risk.rules.features import Movement
from tests.fixtures.accounts import Harness, TestUser
from tests.fixtures.limits import fund, set_tier

from .helpers import add_audit, add_device, add_spend, admit, decisions

SECOND = timedelta(seconds=1)


async def spender(harness: Harness, phone: str = "+8613800000001") -> TestUser:
    user = await harness.user(phone=phone)
    await set_tier(harness, user, 3)
    return user


async def test_new_device_and_a_large_transfer_asks_for_a_challenge(harness: Harness) -> None:
    user = await spender(harness)
    now = harness.clock.now()
    fresh = await add_device(harness, user.id, first_seen=now - timedelta(hours=24) + SECOND)
    known = await add_device(harness, user.id, first_seen=now - timedelta(hours=24))
    assert await admit(harness, user.id, "2000.00", device_id=fresh, keep=True) == "challenge"
    assert await admit(harness, user.id, "1999.99", device_id=fresh) == "allow"
    assert await admit(harness, user.id, "2000.00", device_id=known) == "allow"
    # A device that is not the user's is new; no device named: the rule cannot fire.
    assert await admit(harness, user.id, "2000.00", device_id="dev_someone_else") == "challenge"
    assert await admit(harness, user.id, "5000.00", device_id=None) == "allow"
    # A challenge without a step-up moves nothing; each one is stored on its own.
    stored, _ = await decisions(harness)
    assert stored.verdict == "challenge"
    [fired] = stored.fired
    assert fired["name"] == "new-device-large-transfer"
    assert fired["values"] == {"amount": "2000.00", "is_new_device": True}
    # Only the features the transfer rules read were computed and kept.
    assert stored.features["is_new_device"] is True
    assert "failed_card_topups_1h" not in stored.features


async def test_a_new_payee_soon_after_a_password_reset_is_reviewed(harness: Harness) -> None:
    user = await spender(harness)
    reset_at = harness.clock.now()
    await add_audit(harness, FrozenClock(reset_at), user.id, "login_password.reset")
    harness.clock.advance(timedelta(hours=24) - SECOND)
    assert await admit(harness, user.id, "1000.00", counterparty="usr_new") == "under_review"
    assert await admit(harness, user.id, "999.99", counterparty="usr_new") == "allow"
    await add_spend(harness, user.id, "1.00", at=reset_at, counterparty="usr_known")
    assert await admit(harness, user.id, "1000.00", counterparty="usr_known") == "allow"
    harness.clock.advance(SECOND)
    assert await admit(harness, user.id, "1000.00", counterparty="usr_new") == "allow"
    review = (await decisions(harness))[0]
    assert review.verdict == "review"
    assert review.features["is_new_payee"] is True
    assert review.features["hours_since_password_reset"] == "23.999722"


async def test_after_a_reset_a_new_device_paying_someone_new_is_reviewed_at_any_amount(
    harness: Harness,
) -> None:
    user = await spender(harness)
    reset_at = harness.clock.now()
    await add_audit(harness, FrozenClock(reset_at), user.id, "login_password.reset")
    harness.clock.advance(timedelta(hours=24) - SECOND)
    now = harness.clock.now()
    fresh = await add_device(harness, user.id, first_seen=now - timedelta(hours=24) + SECOND)
    known = await add_device(harness, user.id, first_seen=now - timedelta(hours=24))
    # Under 1,000 yuan, the thief's phone is what gives it away: a fen is held.
    for channel in (SpendChannel.TRANSFER, SpendChannel.PAYMENT, SpendChannel.BILL):
        verdict = await admit(
            harness, user.id, "0.01", channel=channel, counterparty="usr_new", device_id=fresh
        )
        assert verdict == "under_review", channel
    assert await admit(harness, user.id, "999.99", counterparty="usr_new", device_id=known) == (
        "allow"
    )
    await add_spend(harness, user.id, "1.00", at=reset_at, counterparty="usr_known")
    assert await admit(harness, user.id, "0.01", counterparty="usr_known", device_id=fresh) == (
        "allow"
    )
    harness.clock.advance(SECOND)  # 24 hours after the reset: the new device alone is fine
    assert await admit(harness, user.id, "0.01", counterparty="usr_new", device_id=fresh) == (
        "allow"
    )
    [review, *_] = await decisions(harness)
    [fired] = review.fired
    assert fired["name"] == "password-reset-new-payee"
    assert review.features["is_new_device"] is True
    assert review.features["amount"] == "0.01"


async def test_the_sixth_transfer_in_an_hour_reaching_3000_yuan_asks_for_a_challenge(
    harness: Harness,
) -> None:
    user = await spender(harness)
    now = harness.clock.now()
    for minutes in (1, 2, 3, 4):
        await add_spend(harness, user.id, "500.00", at=now - timedelta(minutes=minutes))
    await add_spend(harness, user.id, "1000.00", at=now - timedelta(hours=1) - SECOND)
    # Four transfers in the hour: however large the fifth, no challenge.
    assert await admit(harness, user.id, "4999.99") == "allow"
    await add_spend(harness, user.id, "500.00", at=now - timedelta(hours=1))
    # Five in the hour, 2,500 yuan: the sixth is challenged once the sum with it is 3,000.
    assert await admit(harness, user.id, "499.99") == "allow"
    assert await admit(harness, user.id, "500.00") == "challenge"
    [stored] = await decisions(harness)
    assert stored.features["user_channel_count_1h"] == 5
    assert stored.features["user_channel_sum_1h"] == "2500"
    # Red envelopes: many small transfers in an hour are no challenge.
    envelopes = await spender(harness, "+8613800000003")
    for minutes in range(1, 10):
        await add_spend(harness, envelopes.id, "88.88", at=now - timedelta(minutes=minutes))
    assert await admit(harness, envelopes.id, "88.88") == "allow"
    # Other channels do not count toward the transfer velocity.
    other = await spender(harness, "+8613800000002")
    for minutes in range(1, 7):
        await add_spend(
            harness,
            other.id,
            "1000.00",
            at=now - timedelta(minutes=minutes),
            channel=SpendChannel.BILL,
        )
    assert await admit(harness, other.id, "1000.00") == "allow"


async def test_money_in_then_most_of_it_out_to_someone_new_is_reviewed(harness: Harness) -> None:
    user = await spender(harness)
    start = harness.clock.now()
    await add_spend(harness, user.id, "1.00", at=start - timedelta(days=1), counterparty="usr_mum")
    await fund(harness, user, "500.00")
    harness.clock.advance(timedelta(minutes=30))
    assert await admit(harness, user.id, "399.99") == "allow"
    assert await admit(harness, user.id, "400.00") == "under_review"
    # Someone paid before: the same 80 % passes (a mule paying the next account again would).
    assert await admit(harness, user.id, "500.00", counterparty="usr_mum") == "allow"
    await add_spend(harness, user.id, "300.00", at=start + timedelta(minutes=5))
    assert await admit(harness, user.id, "100.00") == "under_review"
    assert await admit(harness, user.id, "99.99") == "allow"
    harness.clock.advance(SECOND)  # the top-up is now 30 min and 1 s old
    assert await admit(harness, user.id, "500.00") == "allow"
    [review, _] = await decisions(harness)
    assert review.features["inflow_sum_30m"] == "500"
    assert review.features["is_new_payee"] is True
    small = await spender(harness, "+8613800000002")
    await fund(harness, small, "499.99")
    assert await admit(harness, small.id, "499.99") == "allow"


async def test_a_dormant_accounts_outflow_from_1000_yuan_is_reviewed(harness: Harness) -> None:
    user = await spender(harness)
    now = harness.clock.now()
    await add_spend(harness, user.id, "1.00", at=now - timedelta(days=180) + SECOND)
    assert await admit(harness, user.id, "5000.00") == "allow"
    other = await spender(harness, "+8613800000002")
    await add_spend(harness, other.id, "1.00", at=now - timedelta(days=180))
    assert await admit(harness, other.id, "999.99") == "allow"
    assert await admit(harness, other.id, "1000.00") == "under_review"
    assert (
        await admit(harness, other.id, "1000.00", channel=SpendChannel.WITHDRAWAL) == "under_review"
    )
    assert (
        await admit(harness, other.id, "1000.00", channel=SpendChannel.PAYMENT_CODE)
        == "under_review"
    )


async def add_failed_card_topup(harness: Harness, user_id: str, *, at: datetime) -> None:
    async with harness.engine.begin() as conn:
        await conn.execute(
            insert(topups).values(
                id=new_id("top"),
                user_id=user_id,
                method="card",
                amount=1_00,
                currency="CNY",
                status="failed",
                created_at=at,
                updated_at=at,
            )
        )


async def test_card_testing_blocks_any_card_top_up_after_three_failures_in_the_hour(
    harness: Harness,
) -> None:
    user = await spender(harness)
    now = harness.clock.now()
    for minutes in (1, 2):
        await add_failed_card_topup(harness, user.id, at=now - timedelta(minutes=minutes))
    await add_failed_card_topup(harness, user.id, at=now - timedelta(hours=1) - SECOND)

    async def decide(amount: str) -> Outcome:
        movement = Movement(
            user_id=user.id, event="card_topup", reference="topup:x", amount=Money.parse(amount)
        )
        async with harness.services.engine.connect() as conn:
            return await evaluate(conn, movement, now=now, settings=RiskSettings())

    before = await decide("5000.00")
    assert before.fired == ()
    assert before.verdict is Verdict.ALLOW
    assert before.features["failed_card_topups_1h"] == 2
    await add_failed_card_topup(harness, user.id, at=now - timedelta(hours=1))
    for amount in ("0.01", "99.99", "5000.00"):  # no amount is safe: the cash-out is refused too
        after = await decide(amount)
        assert after.verdict is Verdict.BLOCK, amount
        assert after.features["failed_card_topups_1h"] == 3
        assert [(hit.name, hit.mode) for hit in after.fired] == [("card-testing", RuleMode.LIVE)]
