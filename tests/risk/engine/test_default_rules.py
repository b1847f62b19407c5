"""Each default rule fires at its boundary and not one fen or one second before, through
the spend seam, on both databases; the rules of events that do not pass the seam yet run
in shadow and are counted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from ewallet.kit.clock import FrozenClock
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.models.risk import RuleMode, Verdict
from ewallet.models.spending import SpendChannel
from ewallet.models.tables import topups
from ewallet.risk.rules.engine import RiskSettings, evaluate
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
    # A challenge lets the money move for now, and is stored with the spend.
    [stored] = await decisions(harness)
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


async def test_the_sixth_transfer_in_an_hour_asks_for_a_challenge(harness: Harness) -> None:
    user = await spender(harness)
    now = harness.clock.now()
    for minutes in (1, 2, 3, 4):
        await add_spend(harness, user.id, "10.00", at=now - timedelta(minutes=minutes))
    await add_spend(harness, user.id, "10.00", at=now - timedelta(hours=1) - SECOND)
    assert await admit(harness, user.id, "10.00") == "allow"
    await add_spend(harness, user.id, "10.00", at=now - timedelta(hours=1))
    assert await admit(harness, user.id, "10.00") == "challenge"
    # Other channels do not count toward the transfer velocity.
    other = await spender(harness, "+8613800000002")
    for minutes in range(1, 7):
        await add_spend(
            harness,
            other.id,
            "10.00",
            at=now - timedelta(minutes=minutes),
            channel=SpendChannel.BILL,
        )
    assert await admit(harness, other.id, "10.00") == "allow"


async def test_money_in_then_most_of_it_out_is_reviewed(harness: Harness) -> None:
    user = await spender(harness)
    start = harness.clock.now()
    await fund(harness, user, "1000.00")
    harness.clock.advance(timedelta(minutes=30))
    assert await admit(harness, user.id, "799.99") == "allow"
    assert await admit(harness, user.id, "800.00") == "under_review"
    await add_spend(harness, user.id, "300.00", at=start + timedelta(minutes=5))
    assert await admit(harness, user.id, "500.00") == "under_review"
    assert await admit(harness, user.id, "499.99") == "allow"
    harness.clock.advance(SECOND)  # the top-up is now 30 min and 1 s old
    assert await admit(harness, user.id, "900.00") == "allow"
    small = await spender(harness, "+8613800000002")
    await fund(harness, small, "999.99")
    assert await admit(harness, small.id, "999.99") == "allow"


async def test_a_dormant_accounts_large_outflow_is_reviewed(harness: Harness) -> None:
    user = await spender(harness)
    now = harness.clock.now()
    await add_spend(harness, user.id, "1.00", at=now - timedelta(days=180) + SECOND)
    assert await admit(harness, user.id, "5000.00") == "allow"
    other = await spender(harness, "+8613800000002")
    await add_spend(harness, other.id, "1.00", at=now - timedelta(days=180))
    assert await admit(harness, other.id, "4999.99") == "allow"
    assert await admit(harness, other.id, "5000.00") == "under_review"
    assert (
        await admit(harness, other.id, "5000.00", channel=SpendChannel.WITHDRAWAL) == "under_review"
    )


async def test_rules_for_events_that_do_not_pass_the_seam_yet_run_in_shadow(
    harness: Harness,
) -> None:
    user = await spender(harness)
    now = harness.clock.now()
    async with harness.engine.begin() as conn:
        for minutes in range(1, 5):
            await conn.execute(
                insert(topups).values(
                    id=new_id("top"),
                    user_id=user.id,
                    method="card",
                    amount=1_00,
                    currency="CNY",
                    status="failed",
                    created_at=now - timedelta(minutes=minutes),
                    updated_at=now,
                )
            )
    movement = Movement(
        user_id=user.id, event="card_topup", reference="topup:x", amount=Money.parse("99.99")
    )
    engine = harness.services.engine
    async with engine.connect() as conn:
        before = await evaluate(conn, movement, now=now, settings=RiskSettings())
    async with harness.engine.begin() as conn:
        await conn.execute(
            insert(topups).values(
                id=new_id("top"),
                user_id=user.id,
                method="card",
                amount=1_00,
                currency="CNY",
                status="failed",
                created_at=now - timedelta(hours=1),
                updated_at=now,
            )
        )
    async with engine.connect() as conn:
        after = await evaluate(conn, movement, now=now, settings=RiskSettings())
    assert before.fired == ()
    assert before.features["failed_card_topups_1h"] == 4
    assert after.verdict is Verdict.ALLOW  # shadow: counted, never acting
    assert [(hit.name, hit.mode) for hit in after.fired] == [("card-testing", RuleMode.SHADOW)]
