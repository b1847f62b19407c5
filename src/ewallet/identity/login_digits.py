"""Keeping the payment password (PIN) apart from the digits of the login password.

Issue #3: a thief who learns one of the two passwords must not know the other. People
often build a login password around the same 6 digits as their PIN (``wallet730492`` and
``730492``), so the PIN may not be any **6-digit window of the login password's digits**:
the password's digits taken in order, separators dropped (``ab12cd3456`` → ``123456``),
and every run of 6 consecutive digits of that sequence when there are more than 6
(``pass12345678`` → ``123456``, ``234567``, ``345678``). Windows spanning a separator
are included on purpose: they are what a thief holding the password would try first.
Full-width and other decimal digits count as the digits they stand for.

The login password is kept as an argon2 hash only, so when it is set (registration,
change, reset, and the first sign-in of an older account) each window is kept as a keyed
digest -- ``digest("login-password-digits:<user id>:<window>")``, the user id so two
accounts with the same digits do not share a digest -- in ``users.login_password_digit_digests``
(sorted: the order says nothing about where the digits stood). NULL means "not known yet"
(accounts older than this rule that have not signed in since): those are checked only
against the whole login password, as before.

The other direction -- a new login password whose digits hold the current PIN -- is
checked against the PIN's own argon2 hash, one verification per window; see
:func:`pin_among_digits` for the cost.
"""

from __future__ import annotations

import hmac
import unicodedata
from typing import Final

from ewallet.identity.errors import WeakPasswordError
from ewallet.models.identity import User
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import KeyedDigest
from ewallet.security.passwords import PinHasher

WINDOW: Final = 6


def digits_of(password: str) -> str:
    """The decimal digits of ``password`` in order, as ASCII (``ｗ７３０`` → ``730``)."""
    return "".join(
        str(unicodedata.decimal(ch))
        for ch in unicodedata.normalize("NFKC", password)
        if ch.isdecimal()
    )


def digit_windows(password: str) -> list[str]:
    """Every distinct run of 6 consecutive digits of ``password``'s digits, in first-seen order.

    Empty when the password has fewer than 6 digits: no PIN can equal its digits then.
    """
    digits = digits_of(password)
    windows = (digits[start : start + WINDOW] for start in range(len(digits) - WINDOW + 1))
    return list(dict.fromkeys(windows))


def _window_digest(digest: KeyedDigest, *, user_id: str, window: str) -> str:
    return digest(f"login-password-digits:{user_id}:{window}")


def login_digit_digests(digest: KeyedDigest, *, user_id: str, password: str) -> list[str]:
    """What to store in ``users.login_password_digit_digests`` for a new login password."""
    return sorted(
        _window_digest(digest, user_id=user_id, window=window) for window in digit_windows(password)
    )


def pin_matches_login_digits(digest: KeyedDigest, *, user: User, pin: str) -> bool:
    """True if ``pin`` is one of the stored windows; False when none are known (NULL)."""
    stored = user.login_password_digit_digests
    if not stored:
        return False
    candidate = _window_digest(digest, user_id=user.id, window=pin)
    # Every entry compared, so the time taken does not say which one matched.
    hits = [hmac.compare_digest(candidate, entry) for entry in stored]
    return any(hits)


async def pin_among_digits(pins: PinHasher, *, pin_hash: str | None, password: str) -> bool:
    """True if the PIN hashed as ``pin_hash`` is a window of ``password``'s digits.

    One argon2 verification per distinct window (tens of milliseconds each, in a worker
    thread): a typical password with up to 12 digits costs at most 7; the policy's
    128-character ceiling bounds the worst case at 123. Callers run it only after the
    person has proven the account (current password or SMS code), since its answer tells
    whether the PIN is among these digits.
    """
    if pin_hash is None:
        return False
    for window in digit_windows(password):
        if await pins.verify(pin_hash, window):
            return True
    return False


async def ensure_login_apart_from_pin(
    security: SecurityContext, *, user: User, password: str
) -> None:
    """``weak_password`` (reason ``matches_payment_password``) if the user's current PIN is
    a window of the new login password's digits; run it only after the account is proven."""
    if await pin_among_digits(
        security.pins, pin_hash=user.payment_password_hash, password=password
    ):
        raise WeakPasswordError(
            "the login password must not contain the payment password",
            reasons=["matches_payment_password"],
        )
