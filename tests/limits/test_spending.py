"""reserve_spend / release_spend / spending_summary at their boundaries, on both databases.

Each limit is hit exactly (allowed), then by one fen more (refused with its name, when it
resets and what remains); days turn at midnight in Asia/Shanghai, not UTC.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from ewallet.identity.errors import AccountFrozenError
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.money import Money
from ewallet.ledger import TransactionKind
from ewallet.models.tables import spend_records as records
from ewallet.risk.spending import (
    AuthStrength,
    LimitExceededError,
    SpendChannel,
    SpendingPolicy,
    SpendingSummary,
    release_spend,
    reserve_spend,
    spending_summary,
)
from tests.fixtures.accounts import Harness, TestUser
from tests.fixtures.limits import fund, set_tier, spend_in_ledger, users

POLICY = SpendingPolicy.defaults()
references = itertools.count()
CHINA = "+08:00"


async def reserve(
    harness: Harness,
    user: TestUser,
    amount: str,
    channel: SpendChannel = SpendChannel.TRANSFER,
    auth: AuthStrength = AuthStrength.PIN,
    *,
    reference: str | None = None,
    now: datetime | None = None,
    policy: SpendingPolicy = POLICY,
) -> None:
    async def work(uow: UnitOfWork) -> None:
        await reserve_spend(
            uow,
            user_id=user.id,
            amount=Money.parse(amount),
            channel=channel,
            auth=auth,
            reference=reference or f"test:{next(references)}",
            now=now or harness.clock.now(),
            policy=policy,
        )

    await run_unit(harness.engine, work)


async def refused(harness: Harness, user: TestUser, amount: str, *args: Any, **kw: Any) -> Any:
    with pytest.raises(LimitExceededError) as caught:
        await reserve(harness, user, amount, *args, **kw)
    return caught.value


async def record_count(harness: Harness) -> int:
    async with harness.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(records)) or 0)


async def summary(harness: Harness, user: TestUser, now: datetime | None = None) -> SpendingSummary:
    async with harness.engine.connect() as conn:
        return await spending_summary(
            conn, user_id=user.id, now=now or harness.clock.now(), policy=POLICY
        )


async def test_per_transaction_cap_exactly_and_one_fen_over(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 3)
    await reserve(harness, user, "50000.00")
    error = await refused(harness, user, "50000.01")
    assert error.extra["limit"] == "per_transaction"
    assert error.extra["resets_at"] is None
    assert error.extra["remaining"] == {"amount": "50000.00", "currency": "CNY"}
    assert error.status == 403
    assert await record_count(harness) == 1


async def test_daily_pin_cap_of_class_two_at_the_boundary(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    await reserve(harness, user, "30000.00")
    await reserve(harness, user, "20000.00")  # exactly ¥50,000 today
    error = await refused(harness, user, "0.01")
    assert error.extra["limit"] == "daily_pin"
    assert error.extra["remaining"] == {"amount": "0.00", "currency": "CNY"}
    # 2026-03-02 09:00 in Shanghai: the cap resets at the next local midnight.
    assert error.extra["resets_at"] == "2026-03-03T00:00:00" + CHINA
    # A stronger confirmation raises the day's ceiling to ¥100,000.
    await reserve(harness, user, "0.01", auth=AuthStrength.PIN_AND_SMS)


async def test_the_day_turns_at_midnight_in_shanghai_not_utc(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    last_second = datetime.fromisoformat("2026-03-02T23:59:59+08:00")
    await reserve(harness, user, "50000.00", now=last_second)
    error = await refused(harness, user, "0.01", now=last_second)
    assert error.extra["resets_at"] == "2026-03-03T00:00:00+08:00"
    # 16:00 UTC is midnight in Shanghai: a new day, the cap is whole again.
    midnight = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    await reserve(harness, user, "50000.00", now=midnight)
    assert (await summary(harness, user, midnight)).daily["daily_pin"].remaining.minor == 0
    fresh = await summary(harness, user, midnight + timedelta(days=1))
    assert fresh.daily["daily_pin"].remaining == Money.parse("50000.00")


async def test_no_pin_spends_are_capped_by_amount_and_by_count(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    for _ in range(9):
        await reserve(harness, user, "100.00", SpendChannel.PAYMENT, AuthStrength.NONE)
    error = await refused(harness, user, "100.01", SpendChannel.PAYMENT, AuthStrength.NONE)
    assert error.extra["limit"] == "daily_no_pin"
    assert error.extra["remaining"]["amount"] == "100.00"
    await reserve(harness, user, "100.00", SpendChannel.PAYMENT, AuthStrength.NONE)  # the 10th
    error = await refused(harness, user, "0.01", SpendChannel.PAYMENT, AuthStrength.NONE)
    assert error.extra["limit"] == "daily_no_pin"
    assert error.extra["remaining_count"] == 0
    # With the payment password the same payment goes through.
    await reserve(harness, user, "0.01", SpendChannel.PAYMENT, AuthStrength.PIN)


async def test_count_cap_refuses_the_eleventh_small_spend(harness: Harness) -> None:
    user = await harness.user()
    for _ in range(10):
        await reserve(harness, user, "0.01", SpendChannel.PAYMENT, AuthStrength.NONE)
    error = await refused(harness, user, "0.01", SpendChannel.PAYMENT, AuthStrength.NONE)
    assert (error.extra["limit"], error.extra["remaining_count"]) == ("daily_no_pin", 0)


async def test_payment_code_without_pin_is_capped_at_1000_a_day(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 3)
    policy = SpendingPolicy(**{**_fields(POLICY), "daily_no_pin": 5_000_00})
    code, none = SpendChannel.PAYMENT_CODE, AuthStrength.NONE
    await reserve(harness, user, "1000.00", code, none, policy=policy)
    error = await refused(harness, user, "0.01", code, none, policy=policy)
    assert error.extra["limit"] == "daily_payment_code"
    # Other password-free payments still have room, and so has the code with the PIN.
    await reserve(harness, user, "0.01", SpendChannel.PAYMENT, none, policy=policy)
    await reserve(harness, user, "0.01", code, AuthStrength.PIN, policy=policy)


async def test_static_qr_is_capped_at_500_a_day_whatever_the_authentication(
    harness: Harness,
) -> None:
    user = await harness.user()
    await set_tier(harness, user, 3)
    await reserve(harness, user, "300.00", SpendChannel.STATIC_QR, AuthStrength.PIN)
    await reserve(harness, user, "200.00", SpendChannel.STATIC_QR, AuthStrength.PIN_AND_SMS)
    error = await refused(harness, user, "0.01", SpendChannel.STATIC_QR, AuthStrength.PIN)
    assert error.extra["limit"] == "daily_static_qr"


async def test_class_one_lifetime_allowance_is_read_from_the_ledger(harness: Harness) -> None:
    user = await harness.user()
    await fund(harness, user, "2000.00")
    await spend_in_ledger(harness, user, "999.99")
    await reserve(harness, user, "0.01")  # exactly the ¥1,000 lifetime allowance
    error = await refused(harness, user, "0.02")
    assert error.extra["limit"] == "class_lifetime"
    assert error.extra["resets_at"] is None
    assert error.extra["remaining"] == {"amount": "0.01", "currency": "CNY"}
    # Withdrawals to one's own card are not payments: the class allowance does not apply.
    await reserve(harness, user, "900.00", SpendChannel.WITHDRAWAL)


async def test_class_two_allowance_resets_on_1_january_in_shanghai(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    await fund(harness, user, "200000.00")
    policy = SpendingPolicy(**{**_fields(POLICY), "daily_pin": {2: 200_000_00}})
    await spend_in_ledger(harness, user, "99999.00")
    error = await refused(harness, user, "1000.00", policy=policy)
    assert error.extra["limit"] == "class_annual"
    assert error.extra["resets_at"] == "2027-01-01T00:00:00+08:00"
    assert error.extra["remaining"]["amount"] == "1.00"
    new_year = datetime.fromisoformat("2027-01-01T00:00:00+08:00")
    await reserve(harness, user, "1000.00", now=new_year, policy=policy)


async def test_release_stops_counting_and_is_idempotent(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    await reserve(harness, user, "50000.00", SpendChannel.WITHDRAWAL, reference="withdrawal:w1")
    await refused(harness, user, "0.01", SpendChannel.WITHDRAWAL)

    async def release(uow: UnitOfWork) -> None:
        await release_spend(uow, reference="withdrawal:w1")
        await release_spend(uow, reference="withdrawal:w1")
        await release_spend(uow, reference="no-such-reference")

    await run_unit(harness.engine, release)
    await run_unit(harness.engine, release)
    await reserve(harness, user, "50000.00", SpendChannel.WITHDRAWAL)
    async with harness.engine.connect() as conn:
        released = await conn.scalar(
            select(func.count()).select_from(records).where(records.c.released_at.is_not(None))
        )
    assert released == 1


async def test_a_reference_counts_once(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    await reserve(harness, user, "40000.00", reference="transfer:t1")
    await reserve(harness, user, "40000.00", reference="transfer:t1")
    assert await record_count(harness) == 1
    assert (await summary(harness, user)).daily["daily_pin"].remaining == Money.parse("10000.00")


async def test_rolling_back_the_unit_removes_the_record(harness: Harness) -> None:
    user = await harness.user()

    class BoomError(Exception):
        pass

    async def work(uow: UnitOfWork) -> None:
        await reserve_spend(
            uow,
            user_id=user.id,
            amount=Money.parse("10.00"),
            channel=SpendChannel.TRANSFER,
            auth=AuthStrength.PIN,
            reference="transfer:rolled-back",
            now=harness.clock.now(),
            policy=POLICY,
        )
        raise BoomError

    with pytest.raises(BoomError):
        await run_unit(harness.engine, work)
    assert await record_count(harness) == 0


async def test_a_frozen_account_cannot_spend(harness: Harness) -> None:
    user = await harness.user()
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user.id).values(status="frozen", frozen_by="self")
        )
    with pytest.raises(AccountFrozenError):
        await reserve(harness, user, "1.00")
    assert await record_count(harness) == 0


async def test_summary_shows_what_remains(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    await reserve(harness, user, "100.00", SpendChannel.STATIC_QR, AuthStrength.NONE)
    await reserve(harness, user, "1000.00", SpendChannel.TRANSFER, AuthStrength.PIN)
    await fund(harness, user, "1.00")
    await spend_in_ledger(harness, user, "0.01", kind=TransactionKind.BILL)
    result = await summary(harness, user)
    assert result.tier == 2
    assert result.class_period == "year"
    # Only the ledger counts for the class allowance (reservations without money do not).
    assert result.class_limit.remaining == Money.parse("99999.99")
    assert result.daily["daily_pin"].remaining == Money.parse("48900.00")
    assert result.daily["daily_pin_and_sms"].remaining == Money.parse("98900.00")
    assert result.daily["daily_no_pin"].remaining == Money.parse("900.00")
    assert result.daily["daily_no_pin"].count_remaining == 9
    assert result.daily["daily_static_qr"].remaining == Money.parse("400.00")
    assert result.daily["daily_payment_code"].remaining == Money.parse("1000.00")
    assert result.remaining_for(SpendChannel.STATIC_QR, AuthStrength.PIN) == Money.parse("400.00")
    assert result.remaining_for(SpendChannel.TRANSFER, AuthStrength.PIN) == Money.parse("48900.00")
    assert result.per_transaction["transfer"] == Money.parse("50000.00")


def _fields(policy: SpendingPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in SpendingPolicy.__dataclass_fields__}
