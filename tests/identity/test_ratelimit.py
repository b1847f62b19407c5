"""security.ratelimit on the injected clock: memory storage here, Redis in test_redis_limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from limits.aio.storage import MemoryStorage

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.security.ratelimit import (
    DEFAULT_PREFIX,
    Interval,
    RateLimiter,
    RateLimitStoreError,
    Rule,
    split_key_prefix,
)

START = datetime(2026, 3, 2, 1, 30, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def limiter(clock: FrozenClock) -> AsyncIterator[RateLimiter]:
    limiter = RateLimiter(MemoryStorage(wrap_exceptions=True), clock=clock)
    yield limiter
    await limiter.aclose()


async def test_rule_counts_per_clock_aligned_window(
    limiter: RateLimiter, clock: FrozenClock
) -> None:
    hourly = Rule("per-hour", 3, timedelta(hours=1))
    for _ in range(3):
        assert await limiter.hit(hourly, "a") is None
    refused = await limiter.hit(hourly, "a")
    assert refused is not None
    assert refused.rule == "per-hour"
    assert refused.seconds == 30 * 60  # until 02:00, the next window
    assert await limiter.hit(hourly, "b") is None  # another subject has its own count
    clock.advance(timedelta(minutes=29, seconds=59))
    assert (await limiter.test(hourly, "a")) is not None
    clock.advance(timedelta(seconds=1))
    assert await limiter.hit(hourly, "a") is None


async def test_interval_is_exact_to_the_millisecond(
    limiter: RateLimiter, clock: FrozenClock
) -> None:
    gap = Interval("resend", timedelta(seconds=60))
    clock.advance(timedelta(seconds=59, milliseconds=500))  # near a window's end
    assert await limiter.hit(gap, "p") is None
    clock.advance(timedelta(seconds=1))  # the next window: the hit is read from the previous
    refused = await limiter.hit(gap, "p")
    assert refused is not None
    assert refused.seconds == 59
    clock.advance(timedelta(seconds=58, milliseconds=999))
    assert (await limiter.hit(gap, "p")) is not None
    clock.advance(timedelta(milliseconds=1))
    assert await limiter.hit(gap, "p") is None


async def test_hit_all_consumes_nothing_when_one_rule_refuses(limiter: RateLimiter) -> None:
    small = Rule("small", 1, timedelta(hours=1))
    big = Rule("big", 10, timedelta(hours=1))
    assert await limiter.hit_all(small.on("x"), big.on("y")) is None
    refused = await limiter.hit_all(small.on("x"), big.on("y"))
    assert refused is not None
    assert refused.rule == "small"
    # "big" was charged once, by the first call only: nine hits are left.
    for _ in range(9):
        assert await limiter.hit(big, "y") is None
    assert await limiter.hit(big, "y") is not None


async def test_hit_all_reports_the_longest_wait(limiter: RateLimiter) -> None:
    minute = Interval("m", timedelta(minutes=1))
    day = Rule("d", 1, timedelta(days=1))
    assert await limiter.hit_all(minute.on("k"), day.on("k")) is None
    refused = await limiter.hit_all(minute.on("k"), day.on("k"))
    assert refused is not None
    assert refused.rule == "d"
    assert refused.seconds == int(timedelta(hours=22, minutes=30).total_seconds())


async def test_concurrent_hits_never_over_admit(limiter: RateLimiter) -> None:
    rule = Rule("race", 5, timedelta(hours=1))
    gap = Interval("race-gap", timedelta(seconds=60))
    results = await asyncio.gather(*(limiter.hit(rule, "same") for _ in range(20)))
    assert sum(result is None for result in results) <= 5
    gaps = await asyncio.gather(*(limiter.hit(gap, "same") for _ in range(20)))
    assert sum(result is None for result in gaps) == 1


async def test_clear_and_counters(limiter: RateLimiter) -> None:
    rule = Rule("c", 1, timedelta(hours=1))
    gap = Interval("g", timedelta(seconds=60))
    await limiter.hit(rule, "k")
    await limiter.hit(gap, "k")
    await limiter.clear(rule, "k")
    await limiter.clear(gap, "k")
    assert await limiter.hit(rule, "k") is None
    assert await limiter.hit(gap, "k") is None
    assert await limiter.count("n", "k") == 0
    assert await limiter.add("n", "k", ttl=timedelta(days=1)) == 1
    assert await limiter.add("n", "k", ttl=timedelta(days=1)) == 2
    await limiter.reset("n", "k")
    assert await limiter.count("n", "k") == 0


def test_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="limit"):
        Rule("r", 0, timedelta(hours=1))
    with pytest.raises(ValueError, match="gap"):
        Interval("i", timedelta(milliseconds=10))


def test_key_prefix_comes_out_of_the_redis_url() -> None:
    assert split_key_prefix("redis://h:6379/15?key_prefix=t1:&ssl_cert_reqs=none") == (
        "redis://h:6379/15?ssl_cert_reqs=none",
        "t1:",
    )
    assert split_key_prefix("redis://h:6379/0") == ("redis://h:6379/0", None)


async def test_memory_by_default(tmp_path: object, clock: FrozenClock) -> None:
    limiter = RateLimiter.from_settings(Settings(redis_url=None), clock=clock)
    assert isinstance(limiter.storage, MemoryStorage)
    assert limiter.prefix == DEFAULT_PREFIX
    await limiter.aclose()


async def test_an_unreachable_store_refuses_instead_of_admitting(clock: FrozenClock) -> None:
    limiter = RateLimiter.from_settings(
        Settings(redis_url="redis://127.0.0.1:1/0?key_prefix=nowhere:"), clock=clock
    )
    try:
        with pytest.raises(RateLimitStoreError) as raised:
            await limiter.hit(Rule("r", 1, timedelta(hours=1)), "k")
        assert raised.value.code == "upstream_unavailable"
    finally:
        await limiter.aclose()
