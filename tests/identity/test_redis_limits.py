"""Rate limits in the real Redis of this machine: shared by every app instance.

Database 15 and a random key prefix per test (``?key_prefix=`` in the URL); the test's keys
are deleted afterwards. Skipped when no Redis answers on 127.0.0.1:6379.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ewallet.config import Settings
from ewallet.identity.change_caps import ChangeCap, take_change
from ewallet.kit.clock import FrozenClock
from ewallet.kit.errors import RateLimitedError
from ewallet.security.ratelimit import Interval, RateLimiter, Rule
from tests.fixtures.identity import PASSWORD, PHONE, START, running


async def test_rules_and_intervals_on_redis(redis_url: str) -> None:
    clock = FrozenClock(START)
    one = RateLimiter.from_settings(Settings(redis_url=redis_url), clock=clock)
    two = RateLimiter.from_settings(Settings(redis_url=redis_url), clock=clock)
    try:
        hourly = Rule("hourly", 2, timedelta(hours=1))
        assert await one.hit(hourly, "k") is None
        assert await two.hit(hourly, "k") is None
        refused = await one.hit(hourly, "k")
        assert refused is not None
        assert refused.seconds == 30 * 60
        gap = Interval("gap", timedelta(seconds=60))
        assert await two.hit(gap, "k") is None
        clock.advance(timedelta(seconds=45))
        waiting = await one.hit(gap, "k")
        assert waiting is not None
        assert waiting.seconds == 15
        clock.advance(timedelta(seconds=15))
        assert await one.hit(gap, "k") is None
        assert await one.add("count", "k", ttl=timedelta(minutes=5)) == 1
        assert await two.count("count", "k") == 1
    finally:
        await one.aclose()
        await two.aclose()


async def test_two_app_instances_share_the_limits(fast_settings: Settings, redis_url: str) -> None:
    shared = fast_settings.model_copy(
        update={"redis_url": redis_url, "sms_per_ip_hour": 3, "login_per_ip_minute": 2}
    )
    clock = FrozenClock(START)
    async with running(shared, clock) as first, running(shared, clock) as second:
        assert (await first.ask_code()).status_code == 202
        refused = await second.ask_code()  # the resend interval was started by the other one
        assert (refused.status_code, refused.json()["retry_after"]) == (429, 60)
        assert (await second.ask_code("13900001111")).status_code == 202
        assert (await first.ask_code("13900002222")).status_code == 202
        capped = await second.ask_code("13900003333")  # the address has had its three
        assert capped.json()["code"] == "rate_limited"
        body = {"phone": PHONE, "login_password": PASSWORD}
        assert (await first.client.post("/v1/sessions", json=body)).status_code == 401
        assert (await second.client.post("/v1/sessions", json=body)).status_code == 401
        third = await first.client.post("/v1/sessions", json=body)
        assert (third.status_code, third.json()["code"]) == (429, "rate_limited")


async def test_change_caps_hold_across_processes(redis_url: str) -> None:
    clock = FrozenClock(START)
    one = RateLimiter.from_settings(Settings(redis_url=redis_url), clock=clock)
    two = RateLimiter.from_settings(Settings(redis_url=redis_url), clock=clock)
    cap = ChangeCap("changes", 3)
    try:
        await take_change(one, cap, user_id="usr_a")
        clock.advance(timedelta(hours=5))  # another hour bucket
        await take_change(two, cap, user_id="usr_a")
        await take_change(one, cap, user_id="usr_a")
        await take_change(two, cap, user_id="usr_b")  # per user
        with pytest.raises(RateLimitedError) as refused:
            await take_change(two, cap, user_id="usr_a")
        # 06:30 now; the 01:30 change stops counting at 02:00 the next day.
        assert refused.value.extra["retry_after"] == 19 * 3600 + 30 * 60
        clock.advance(timedelta(hours=19, minutes=30))
        await take_change(two, cap, user_id="usr_a")
    finally:
        await one.aclose()
        await two.aclose()
