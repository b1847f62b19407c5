"""How often one user may change the login password and the payment password (PIN).

Why a cap: keeping the PIN apart from the login password's digits
(:mod:`ewallet.identity.login_digits`) means every refusal answers a question about the
*other* secret. Whoever holds the login password could set new ones again and again --
each new password's digits test up to 123 candidate PINs -- and learn the PIN in about
8,000 changes; whoever holds a session could probe the login password's digits with PIN
changes. A few tries a day turns an afternoon's script into years.

What counts, per user (settings ``login_password_changes_per_day`` and
``payment_password_changes_per_day``, 5 each):

* login password changes and resets that succeed or are refused for
  ``matches_payment_password``;
* PIN sets, changes and resets that reach the digits check.

Both only after the person has proven the account (current password, current PIN or SMS
code), so a stranger cannot spend the owner's budget. Past the cap: ``429 rate_limited``
with ``Retry-After``, and nothing changes.

Rolling, not clock-aligned: a :class:`~ewallet.security.ratelimit.Rule` of a day resets at
UTC midnight and lets twice the cap through around it. Here each change is counted in the
hour bucket of the injected clock it fell in, in the rate limiter's storage (memory, or
Redis shared by every process), and a try reads the last :data:`BUCKETS_READ` buckets. A
change thus counts for between 24 and 25 hours: no 24-hour span ever holds more than the
cap; the price is refusing up to an hour longer than strictly needed. Counting happens
after the check, and the sum is read again, so two processes racing for the last slot can
only over-refuse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from ewallet.config import Settings
from ewallet.kit.errors import RateLimitedError
from ewallet.security.ratelimit import RateLimiter

BUCKET: Final = timedelta(hours=1)
SPAN: Final = timedelta(hours=24)
# The current, partly elapsed bucket plus a full span's worth before it.
BUCKETS_READ: Final = SPAN // BUCKET + 1
# Real time the store keeps a bucket: well past the span, as the clock may lag real time.
BUCKET_TTL: Final = 2 * SPAN + 2 * BUCKET
_BUCKET_MS: Final = int(BUCKET.total_seconds() * 1000)


@dataclass(frozen=True, slots=True)
class ChangeCap:
    """At most ``limit`` counted changes of one kind per user in any 24 hours."""

    name: str
    limit: int


def login_password_cap(settings: Settings) -> ChangeCap:
    return ChangeCap("login-password-changes", settings.login_password_changes_per_day)


def payment_password_cap(settings: Settings) -> ChangeCap:
    return ChangeCap("payment-password-changes", settings.payment_password_changes_per_day)


class ChangeCapReachedError(RateLimitedError):
    """``rate_limited``: this user changed that password too often within 24 hours."""


async def take_change(limiter: RateLimiter, cap: ChangeCap, *, user_id: str) -> None:
    """Count one change of ``user_id`` against ``cap``, or raise ``rate_limited``.

    Call it once the account is proven and just before the step whose answer must be
    rationed. A refusal counts nothing (except after a lost race, see the module doc).
    """
    now_ms = math.floor(limiter.clock.now().timestamp() * 1000)
    current = now_ms // _BUCKET_MS
    first = current - BUCKETS_READ + 1
    counts = [
        await limiter.count(_bucket(cap, index), user_id) for index in range(first, current + 1)
    ]
    if sum(counts) >= cap.limit:
        raise _refusal(cap, counts, first=first, now_ms=now_ms)
    counts[-1] = await limiter.add(_bucket(cap, current), user_id, ttl=BUCKET_TTL)
    if sum(counts) > cap.limit:  # another request took the last slot meanwhile
        raise _refusal(cap, counts, first=first, now_ms=now_ms)


def _bucket(cap: ChangeCap, index: int) -> str:
    return f"{cap.name}:h{index}"


def _refusal(cap: ChangeCap, counts: list[int], *, first: int, now_ms: int) -> RateLimitedError:
    """When enough of the oldest buckets have left the window for one more change."""
    remaining = sum(counts)
    for offset, count in enumerate(counts):
        remaining -= count
        if remaining < cap.limit:
            # Bucket ``first + offset`` stops being read once the current bucket is
            # ``first + offset + BUCKETS_READ``.
            leaves_ms = (first + offset + BUCKETS_READ) * _BUCKET_MS
            seconds = max(1, math.ceil((leaves_ms - now_ms) / 1000))
            return ChangeCapReachedError(
                "this password was changed too often; try again later", retry_after=seconds
            )
    raise AssertionError("a refusal needs counts above the cap")  # pragma: no cover
