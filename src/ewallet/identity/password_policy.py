"""The login-password policy of DESIGN.md (after NIST SP 800-63B-4).

8 to 128 characters, any characters; no composition rules and no forced expiry. Refused:
passwords on the bundled blocklist of common choices, ones built from the user's own
phone number, and trivially patterned ones (one repeated character, a straight run of
digits or letters). ``weak_password`` lists every reason that applies.
"""

from __future__ import annotations

import itertools
import unicodedata
from functools import cache
from importlib import resources
from typing import Final

from ewallet.identity.errors import WeakPasswordError

MIN_LENGTH: Final = 8
MAX_LENGTH: Final = 128


@cache
def blocklist() -> frozenset[str]:
    """Common passwords, lower-cased (src/ewallet/identity/data/common-passwords.txt)."""
    text = (
        resources.files("ewallet.identity")
        .joinpath("data/common-passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _is_run(text: str) -> bool:
    """abcdefgh, 12345678, 87654321: every step +1 or every step -1."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def login_password_problems(password: str, *, phone: str | None = None) -> list[str]:
    """The reasons ``password`` is refused; empty when it is acceptable."""
    normalized = unicodedata.normalize("NFKC", password)
    reasons = []
    if len(normalized) < MIN_LENGTH:
        reasons.append("too_short")
    if len(normalized) > MAX_LENGTH:
        reasons.append("too_long")
    lowered = normalized.lower()
    if lowered in blocklist():
        reasons.append("too_common")
    if len(set(normalized)) == 1 or _is_run(lowered):
        reasons.append("too_simple")
    if phone:
        national = phone.removeprefix("+86")
        digits = "".join(ch for ch in normalized if ch.isdigit())
        if national and (national in normalized or (len(digits) >= 8 and digits in national)):
            reasons.append("contains_phone_number")
    return reasons


def check_login_password(password: str, *, phone: str | None = None) -> None:
    """Raise ``weak_password`` with every reason if the password is refused."""
    reasons = login_password_problems(password, phone=phone)
    if reasons:
        raise WeakPasswordError("the login password does not meet the policy", reasons=reasons)
