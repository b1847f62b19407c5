"""Parallel PIN guesses and parallel verifications, each in its own thread and engine.

Every attempt runs on its own event loop with its own connection pool, as separate API
processes would: only the database can make them agree.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.identity.errors import PaymentPasswordLockedError
from ewallet.identity.payment_password.service import STALE_CHECK, verify_payment_password
from ewallet.identity.realname.service import verify_identity
from ewallet.kit.db.engine import make_engine
from ewallet.kit.errors import DomainError, ServerBusyError
from tests.fixtures.accounts import PIN, Harness, make_id_number, users


def _in_threads(harness: Harness, jobs: list[str], run: str) -> list[str]:
    """Run ``run`` (a job kind) once per item of ``jobs``, all at once, one thread each."""

    async def one(item: str, index: int) -> str:
        engine = make_engine(harness.settings.database_url, pool_size=1)
        try:
            if run in {"pin", "right-pin"}:
                await verify_payment_password(
                    engine,
                    clock=harness.clock,
                    settings=harness.settings,
                    security=harness.security,
                    user_id=item,
                    pin=PIN if run == "right-pin" else f"00000{index}",
                    actor=Actor("user", item),
                )
            else:
                await verify_identity(
                    replace(harness.services, engine=engine),
                    user_id=item,
                    real_name="张三",
                    id_number=make_id_number(),
                    actor=Actor("user", item),
                )
        except DomainError as error:
            return error.code
        finally:
            await engine.dispose()
        return "ok"

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(asyncio.run, one(item, index)) for index, item in enumerate(jobs)]
        return [future.result() for future in futures]


@pytest.mark.parametrize("attempts", [2, 3, 6])
async def test_parallel_wrong_pins_all_count_and_never_exceed_the_budget(
    harness: Harness, attempts: int
) -> None:
    user = await harness.user(pin=PIN)
    codes = await asyncio.to_thread(_in_threads, harness, [user.id] * attempts, "pin")
    row = await harness.row(user)
    actions = await harness.actions()
    if attempts < 3:
        assert codes == ["payment_password_invalid"] * attempts
        assert row.payment_failures == attempts  # both counted, none lost
        assert row.payment_locked_until is None
    else:
        assert row.payment_failures == 3  # never more than the budget was checked
        assert row.payment_locked_until is not None  # 3 wrong: locked, never 2
        assert actions.count("payment_password.locked") == 1
        assert "payment_password_locked" in codes
        assert set(codes) <= {"payment_password_invalid", "payment_password_locked"}
        # Guesses past the budget were refused by the lock, before any hash check.
        assert codes.count("payment_password_locked") >= attempts - 2
    # At most the budget of guesses was ever compared with the hash.
    assert len(actions) <= 3
    assert await harness.kinds(user) == (["payment_password_locked"] if attempts >= 3 else [])


async def test_parallel_right_pins_all_pass_without_touching_the_budget(
    harness: Harness,
) -> None:
    # More parallel checks than the budget has slots: the extra ones wait, none is refused.
    user = await harness.user(pin=PIN)
    codes = await asyncio.to_thread(_in_threads, harness, [user.id] * 12, "right-pin")
    assert codes == ["ok"] * 12
    row = await harness.row(user)
    assert (row.payment_failures, row.payment_checks_in_flight) == (0, 0)
    assert row.payment_locked_until is None


async def test_checks_left_by_a_dead_process_count_as_wrong(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    long_ago = harness.clock.now() - STALE_CHECK - timedelta(seconds=1)
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(payment_checks_in_flight=3, payment_checks_since=long_ago)
        )
    with pytest.raises(PaymentPasswordLockedError):
        await verify(harness, user.id, PIN)
    row = await harness.row(user)
    assert (row.payment_failures, row.payment_checks_in_flight) == (3, 0)
    assert row.payment_locked_until is not None


async def test_a_check_waits_for_a_slot_and_gives_up_after_a_while(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    busy = update(users).where(users.c.id == user.id)
    async with harness.engine.begin() as conn:  # three checks in flight elsewhere, fresh
        await conn.execute(
            busy.values(payment_checks_in_flight=3, payment_checks_since=harness.clock.now())
        )
    waiting = asyncio.create_task(verify(harness, user.id, PIN))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # no slot: it waits rather than failing
    async with harness.engine.begin() as conn:
        await conn.execute(busy.values(payment_checks_in_flight=2))  # one check settles
    await asyncio.wait_for(waiting, timeout=5)
    async with harness.engine.begin() as conn:
        await conn.execute(busy.values(payment_checks_in_flight=3))
    impatient = harness.settings.model_copy(update={"payment_password_slot_wait_seconds": 0.2})
    with pytest.raises(ServerBusyError) as busy_error:  # the server's load, not a guess
        await verify(harness, user.id, PIN, settings=impatient)
    assert busy_error.value.extra == {"retry_after": 1}
    row = await harness.row(user)
    assert (row.payment_failures, row.payment_checks_in_flight) == (0, 3)  # nothing counted


async def verify(
    harness: Harness, user_id: str, pin: str, *, settings: Settings | None = None
) -> str:
    return await verify_payment_password(
        harness.engine,
        clock=harness.clock,
        settings=settings or harness.settings,
        security=harness.security,
        user_id=user_id,
        pin=pin,
        actor=Actor("user", user_id),
    )


async def test_one_id_number_verifies_one_account_even_in_parallel(harness: Harness) -> None:
    first = await harness.user(phone="+8613900000001")
    second = await harness.user(phone="+8613900000002")
    codes = await asyncio.to_thread(_in_threads, harness, [first.id, second.id], "identity")
    assert sorted(codes) == ["id_number_in_use", "ok"]
    async with harness.engine.connect() as conn:
        tiers = (await conn.execute(select(users.c.tier).order_by(users.c.tier))).scalars().all()
    assert list(tiers) == [1, 2]
