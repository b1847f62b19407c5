"""Rate limits on the injected clock, counted in a ``limits`` storage (memory or Redis).

Why not ``limits``' ready-made strategies: their storages read the machine's time, so a test
could not move it, and a :class:`~ewallet.kit.clock.FrozenClock` would disagree with the
limiter. Here the *window* is computed from our clock and becomes part of the storage key;
the storage only counts (``incr``/``get``, atomic on Redis, shared by every process) and
forgets old keys by its own expiry, which is garbage collection and nothing more.

Two kinds of rule:

* :class:`Rule` -- at most ``limit`` hits per fixed window, windows aligned to the epoch (UTC):
  "5 codes per hour per phone". Exact about its own window and predictable for users ("try
  again at 11:00"); a burst straddling a boundary can reach twice the limit in a short span,
  which is why an hourly rule is paired with a daily one.
* :class:`Interval` -- at least ``gap`` between two hits: "resend after 60 s". Exact to the
  millisecond: windows as long as the gap hold at most one hit each and store its offset,
  so the last hit is read back from this window and the previous one.

:meth:`RateLimiter.hit_all` tests every rule first and consumes only when all pass, so a
refusal by a daily cap does not also burn the per-IP budget. Another process may hit between
the test and the consumption; the value after ``incr`` is checked again, so a race can only
over-refuse, never over-admit.

Storage failures (Redis down) raise :class:`RateLimitStoreError`, an ``upstream_unavailable``
refusal: a limiter that cannot count must not silently let everything through.

Subjects are phone numbers, addresses and user ids: the store only ever sees a keyed digest
of them (HMAC-SHA256 under a key derived from ``EWALLET_SECRET_KEY``), so a Redis dump or a
``MONITOR`` session lists rule names and counts, never whom they count. That digest is why
this module sits in ``security`` (over :mod:`ewallet.security.crypto`) rather than in ``kit``,
which imports nothing of ewallet above itself.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.errors import StorageError

from ewallet.config import Settings
from ewallet.kit.clock import Clock
from ewallet.kit.errors import RateLimitedError, UpstreamUnavailableError
from ewallet.security.crypto import KeyedDigest, derive_key

DEFAULT_PREFIX: Final = "ewallet:rl:"
PREFIX_QUERY_PARAMETER: Final = "key_prefix"
_MIN_EXPIRY_SECONDS: Final = 120


class RateLimitStoreError(UpstreamUnavailableError):
    """The rate-limit store (Redis) did not answer; the guarded action did not happen."""


@dataclass(frozen=True, slots=True)
class Rule:
    """At most ``limit`` hits per fixed ``window`` (aligned to the epoch on the clock)."""

    name: str
    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < timedelta(seconds=1):
            raise ValueError("a rule needs limit >= 1 and a window of at least a second")

    def on(self, *keys: str) -> Bound:
        return Bound(self, keys)


@dataclass(frozen=True, slots=True)
class Interval:
    """At least ``gap`` between two hits (a resend cooldown), exact to the millisecond."""

    name: str
    gap: timedelta

    def __post_init__(self) -> None:
        if self.gap < timedelta(seconds=1):
            raise ValueError("an interval needs a gap of at least a second")

    def on(self, *keys: str) -> Bound:
        return Bound(self, keys)


@dataclass(frozen=True, slots=True)
class Bound:
    """A rule applied to one subject (a phone, an address ...)."""

    rule: Rule | Interval
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """A refusal: which rule said no, and in how many whole seconds to try again (>= 1)."""

    seconds: int
    rule: str

    def error(self, detail: str = "too many requests; try again later") -> RateLimitedError:
        """The ``rate_limited`` problem (``retry_after`` member and ``Retry-After`` header)."""
        return RateLimitedError(detail, retry_after=self.seconds)


class RateLimiter:
    """A small typed facade over a ``limits`` async storage; see the module docstring."""

    def __init__(
        self,
        storage: Storage,
        *,
        clock: Clock,
        prefix: str = DEFAULT_PREFIX,
        on_close: Callable[[], None] | None = None,
        subject_key: bytes | None = None,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.prefix = prefix
        self._on_close = on_close
        # Without a key (a limiter of its own, in memory) a random one: nobody shares counts.
        self._subject_digest = KeyedDigest(subject_key or secrets.token_bytes(32))

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock) -> RateLimiter:
        """Memory storage by default; Redis when ``redis_url`` is set (one count per cluster).

        ``redis_url`` may carry ``?key_prefix=...`` so several wallets (or test runs) share
        one Redis database without sharing counts.
        """
        key = subject_key(settings)
        if not settings.redis_url:
            return cls(MemoryStorage(wrap_exceptions=True), clock=clock, subject_key=key)
        url, prefix = split_key_prefix(settings.redis_url)
        # Imported here: only deployments with Redis need the client loaded.
        import coredis  # noqa: PLC0415

        pool = coredis.ConnectionPool.from_url(url)
        options: dict[str, Any] = {"connection_pool": pool}
        storage = RedisStorage("async+" + url, wrap_exceptions=True, **options)
        return cls(
            storage,
            clock=clock,
            prefix=prefix or DEFAULT_PREFIX,
            on_close=pool.disconnect,
            subject_key=key,
        )

    async def aclose(self) -> None:
        """Close the store's connections (Redis); the memory store needs nothing."""
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    async def hit(self, rule: Rule | Interval, *keys: str) -> RetryAfter | None:
        """Consume one hit of ``rule`` for ``keys``, or say when to retry (nothing consumed)."""
        return await self.hit_all(rule.on(*keys))

    async def test(self, rule: Rule | Interval, *keys: str) -> RetryAfter | None:
        """Would a hit pass now? Consumes nothing."""
        return await self.test_all(rule.on(*keys))

    async def test_all(self, *bounds: Bound) -> RetryAfter | None:
        """The longest wait any of ``bounds`` imposes now, or None; consumes nothing."""
        now_ms = self._now_ms()
        return _longest([await self._test_one(bound, now_ms) for bound in bounds])

    async def hit_all(self, *bounds: Bound) -> RetryAfter | None:
        """Consume one hit of every bound if all pass; else consume none and say the wait."""
        now_ms = self._now_ms()
        refused = _longest([await self._test_one(bound, now_ms) for bound in bounds])
        if refused is not None:
            return refused
        return _longest([await self._hit_one(bound, now_ms) for bound in bounds])

    async def clear(self, rule: Rule | Interval, *keys: str) -> None:
        """Forget the current hits of ``rule`` for ``keys`` (e.g. after a proven identity)."""
        now_ms = self._now_ms()
        bound = rule.on(*keys)
        if isinstance(rule, Rule):
            index = now_ms // _ms(rule.window)
            await self._call(self.storage.clear, self._window_key(bound, index))
            return
        index = now_ms // _ms(rule.gap)
        for window in (index - 1, index):
            await self._call(self.storage.clear, self._window_key(bound, window))

    # Plain counters: no window, the storage forgets them after ``ttl`` of real time.

    async def count(self, name: str, *keys: str) -> int:
        value: int = await self._call(self.storage.get, self._counter_key(name, keys))
        return value

    async def add(self, name: str, *keys: str, ttl: timedelta) -> int:
        key = self._counter_key(name, keys)
        value: int = await self._call(self.storage.incr, key, int(ttl.total_seconds()))
        return value

    async def reset(self, name: str, *keys: str) -> None:
        await self._call(self.storage.clear, self._counter_key(name, keys))

    # Internals.

    def _now_ms(self) -> int:
        return math.floor(self.clock.now().timestamp() * 1000)

    def _window_key(self, bound: Bound, index: int) -> str:
        rule = bound.rule
        size = _ms(rule.window if isinstance(rule, Rule) else rule.gap)
        # The window size is part of the key: changing a setting never misreads old counts.
        return f"{self.prefix}{rule.name}:{size}:{self._subject(bound.keys)}:{index}"

    def _counter_key(self, name: str, keys: tuple[str, ...]) -> str:
        return f"{self.prefix}{name}:{self._subject(keys)}"

    def _subject(self, keys: tuple[str, ...]) -> str:
        """The keyed digest standing for ``keys`` in the store (128 bits are plenty)."""
        return self._subject_digest("\x1f".join(keys))[:32]

    async def _test_one(self, bound: Bound, now_ms: int) -> RetryAfter | None:
        rule = bound.rule
        if isinstance(rule, Rule):
            size = _ms(rule.window)
            index = now_ms // size
            used: int = await self._call(self.storage.get, self._window_key(bound, index))
            if used + 1 <= rule.limit:
                return None
            return _retry(rule.name, (index + 1) * size - now_ms)
        last = await self._last_hit_ms(bound, now_ms)
        if last is None or now_ms - last >= _ms(rule.gap):
            return None
        return _retry(rule.name, last + _ms(rule.gap) - now_ms)

    async def _hit_one(self, bound: Bound, now_ms: int) -> RetryAfter | None:
        rule = bound.rule
        if isinstance(rule, Rule):
            size = _ms(rule.window)
            index = now_ms // size
            key = self._window_key(bound, index)
            used: int = await self._call(self.storage.incr, key, _expiry(size))
            if used <= rule.limit:
                return None
            return _retry(rule.name, (index + 1) * size - now_ms)
        size = _ms(rule.gap)
        index = now_ms // size
        stamp = now_ms - index * size + 1  # 1-based offset of this hit within its window
        key = self._window_key(bound, index)
        stored: int = await self._call(self.storage.incr, key, _expiry(size), stamp)
        if stored == stamp:
            return None
        # Someone else hit this window first (a concurrent request): they own the slot.
        other = index * size + min(stored - stamp, size) - 1
        return _retry(rule.name, other + size - now_ms)

    async def _last_hit_ms(self, bound: Bound, now_ms: int) -> int | None:
        assert isinstance(bound.rule, Interval)
        size = _ms(bound.rule.gap)
        index = now_ms // size
        for window in (index, index - 1):
            stamp: int = await self._call(self.storage.get, self._window_key(bound, window))
            if stamp > 0:
                # A corrupted (summed) stamp after a race reads as later: over-refuses only.
                return window * size + min(stamp, size) - 1
        return None

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return await function(*args)
        except StorageError as error:
            raise RateLimitStoreError(
                f"rate-limit store unavailable: {type(error.storage_error).__name__}"
            ) from error


def subject_key(settings: Settings) -> bytes:
    """The HMAC key of rate-limit subjects, the same in every process of one deployment."""
    # Without a secret (bare Settings() in tools and tests) the digest is not secret either;
    # the app always has one (load_settings fills it in development, production needs it).
    master = settings.secret_key.get_secret_value().encode() if settings.secret_key else b""
    return derive_key(master, "ewallet rate-limit subjects v1")


def split_key_prefix(url: str) -> tuple[str, str | None]:
    """Take ``key_prefix`` out of a Redis URL's query: (URL without it, the prefix)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for name, value in query if name == PREFIX_QUERY_PARAMETER), None)
    rest = urlencode([(name, value) for name, value in query if name != PREFIX_QUERY_PARAMETER])
    return urlunsplit(parts._replace(query=rest)), prefix or None


def _ms(delta: timedelta) -> int:
    return math.floor(delta.total_seconds() * 1000)


def _expiry(window_ms: int) -> int:
    """Seconds a window's key must outlive it in the store (the clock may lag real time)."""
    return max(_MIN_EXPIRY_SECONDS, math.ceil(2 * window_ms / 1000))


def _retry(rule: str, wait_ms: int) -> RetryAfter:
    return RetryAfter(seconds=max(1, math.ceil(wait_ms / 1000)), rule=rule)


def _longest(refusals: list[RetryAfter | None]) -> RetryAfter | None:
    found = [refusal for refusal in refusals if refusal is not None]
    return max(found, key=lambda refusal: refusal.seconds) if found else None
