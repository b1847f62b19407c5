"""The payment password's (PIN's) policy: which 6 digits an account may pick.

Pure rules (:func:`payment_password_problems`), the account's own ones (its phone, its
verified ID number's birth date and tail: :func:`check_payment_password_for_user`), and
the rule that keeps the PIN apart from the login password (:func:`ensure_apart_from_login`).
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Final

from ewallet.identity.errors import SameAsLoginPasswordError, WeakPaymentPasswordError
from ewallet.identity.login_digits import pin_matches_login_digits
from ewallet.identity.realname.rules import birth_date_of, id_number_of
from ewallet.models.identity import User
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import FieldCipher

PIN_LENGTH: Final = 6
# Shapes people pick that the structural rules below do not catch: keypad lines and
# "love" numbers (520 = 我爱你, 1314 = 一生一世).
COMMON_PINS: Final = frozenset(
    {"147258", "258369", "147369", "369258", "159357", "357159", "159753", "753159"}
    | {"741852", "852963", "963852", "789456", "456123", "321654", "987456", "654789"}
    | {"520131", "201314", "131420", "521314", "131452", "520520", "584520", "521521"}
)


def _is_run(pin: str) -> bool:
    """123456, 654321, 890123: each digit one more (or one less) than the last, mod 10."""
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {9})


def _birthday_forms(born: date) -> set[str]:
    yy, mm, dd = f"{born.year % 100:02d}", f"{born.month:02d}", f"{born.day:02d}"
    return {yy + mm + dd, mm + dd + yy, dd + mm + yy, f"{born.year:04d}{mm}"}


def payment_password_problems(
    pin: str, *, phone: str | None = None, id_number: str | None = None
) -> list[str]:
    """The reasons ``pin`` is refused as a payment password; empty when it is acceptable.

    ``not_six_digits`` (exactly 6 ASCII digits), ``one_digit_repeated`` (111111),
    ``sequence`` (123456, 654321, 901234), ``repeating_pattern`` (121212, 123123, 112233,
    111222), ``palindrome`` (123321), ``common`` (keypad lines, 520131 ...), ``birthday``
    (YYMMDD, MMDDYY, DDMMYY or YYYYMM of the verified ID's birth date), ``id_number_tail``
    (its last 6), ``phone_number`` (the last 6 digits of the phone). What needs the
    account's secrets is checked apart: the login password's digits
    (:func:`ensure_apart_from_login`).
    """
    if len(pin) != PIN_LENGTH or not pin.isascii() or not pin.isdigit():
        return ["not_six_digits"]
    reasons = []
    if len(set(pin)) == 1:
        reasons.append("one_digit_repeated")
    elif _is_run(pin):
        reasons.append("sequence")
    elif pin in {
        pin[:2] * 3,
        pin[:3] * 2,
        "".join(d * 2 for d in pin[::2]),
        pin[0] * 3 + pin[3] * 3,
    }:
        reasons.append("repeating_pattern")
    elif pin == pin[::-1]:
        reasons.append("palindrome")
    if pin in COMMON_PINS:
        reasons.append("common")
    if id_number:
        born = birth_date_of(id_number)
        if born is not None and pin in _birthday_forms(born):
            reasons.append("birthday")
        if id_number[-6:] == pin:
            reasons.append("id_number_tail")
    if phone and "".join(ch for ch in phone if ch.isdigit())[-6:] == pin:
        reasons.append("phone_number")
    return reasons


def check_payment_password_for_user(pin: str, *, user: User, cipher: FieldCipher) -> None:
    """Raise ``weak_payment_password`` (with ``reasons``) if ``user`` may not pick ``pin``."""
    reasons = payment_password_problems(pin, phone=user.phone, id_number=id_number_of(user, cipher))
    if reasons:
        raise WeakPaymentPasswordError("the payment password is too easy to guess", reasons=reasons)


def login_digits_refusal() -> WeakPaymentPasswordError:
    return WeakPaymentPasswordError(
        "the payment password must not be the login password's digits",
        reasons=["matches_login_password_digits"],
    )


async def ensure_apart_from_login(security: SecurityContext, *, user: User, pin: str) -> None:
    """Refuse a PIN a thief holding the login password could derive from it.

    ``weak_payment_password`` with reason ``matches_login_password_digits`` when ``pin`` is
    a 6-digit window of the login password's digits (see :mod:`ewallet.identity.login_digits`;
    accounts whose digits are not known yet skip this); ``same_as_login_password`` when the
    login password is exactly these 6 characters -- a hash comparison that can only catch
    accounts created before the 8-character rule.

    Its answer says something about the login password, so callers run it only once the
    person has proven the account further than a session does (the current PIN, an SMS
    code), or when there is no PIN yet to protect.
    """
    if pin_matches_login_digits(security.digest, user=user, pin=pin):
        raise login_digits_refusal()
    if await security.passwords.verify(user.login_password_hash, pin):
        raise SameAsLoginPasswordError("the payment password must differ from the login one")
