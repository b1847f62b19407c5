"""Rate-limit stores never hold a phone number (or address, or user id) in clear.

Every key is ``prefix + rule + window + keyed digest of the subject``; the digest key comes
from the secret key, so every process of a deployment shares counts and nobody without the
secret can tell whose they are. Checked in memory here and in the machine's Redis.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import coredis
from limits.aio.storage import MemoryStorage
from pydantic import SecretStr

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.security.ratelimit import Interval, RateLimiter, Rule

START = datetime(2026, 3, 2, 1, 30, 0, tzinfo=UTC)
PHONE = "+8613812345678"
ADDRESS = "203.0.113.9"
SECRET = SecretStr("k" * 48)
CLEAR_TEXTS = ("13812345678", "203.0.113", "usr_01jabc")


async def exercise(limiter: RateLimiter) -> None:
    hourly = Rule("sms-phone-hour", 3, timedelta(hours=1))
    assert await limiter.hit_all(hourly.on(PHONE), hourly.on(ADDRESS)) is None
    assert await limiter.hit(Interval("sms-resend", timedelta(seconds=60)), PHONE) is None
    await limiter.add("login-failures", "usr_01jabc", PHONE, ttl=timedelta(minutes=5))


def leaked(keys: list[str]) -> list[str]:
    return [key for key in keys if any(text in key for text in CLEAR_TEXTS)]


async def test_memory_keys_are_digests_shared_by_one_secret() -> None:
    clock = FrozenClock(START)
    one = RateLimiter.from_settings(Settings(secret_key=SECRET), clock=clock)
    await exercise(one)
    assert isinstance(one.storage, MemoryStorage)
    keys = list(one.storage.storage)
    assert len(keys) == 4
    assert leaked(keys) == []
    assert all(key.startswith("ewallet:rl:") for key in keys)
    assert any(":sms-phone-hour:" in key for key in keys)  # the rule stays readable
    # Same secret, same keys (processes share counts); another secret, other keys.
    two = RateLimiter.from_settings(Settings(secret_key=SECRET), clock=clock)
    other = RateLimiter.from_settings(Settings(secret_key=SecretStr("o" * 48)), clock=clock)
    bound = Rule("r", 1, timedelta(hours=1)).on(PHONE)
    index = 0
    assert one._window_key(bound, index) == two._window_key(bound, index)
    assert one._window_key(bound, index) != other._window_key(bound, index)


async def test_redis_keys_hold_no_phone_number(redis_url: str) -> None:
    limiter = RateLimiter.from_settings(
        Settings(redis_url=redis_url, secret_key=SECRET), clock=FrozenClock(START)
    )
    prefix = redis_url.rsplit("key_prefix=", 1)[1]
    client: coredis.Redis[bytes] = coredis.Redis.from_url(redis_url.split("?", maxsplit=1)[0])
    try:
        await exercise(limiter)
        keys = [
            key.decode() if isinstance(key, bytes) else key
            async for key in client.scan_iter(match=f"*{prefix}*")
        ]
        assert len(keys) == 4
        assert leaked(keys) == []
    finally:
        client.connection_pool.disconnect()
        await limiter.aclose()
