"""Real-name rules: the resident ID number, the name, masking, the account class. Pure.

Rules, decided and tested:

- ID numbers are the 18-character second-generation form: 17 digits and a check character
  (``0``-``9`` or ``X``). A lower-case ``x`` is accepted and stored as ``X`` (phone keyboards
  offer it; it names the same number, and the digest is of the upper-case form, so it
  cannot slip past the one-account-per-ID rule). The 15-digit first-generation form has no
  check digit and expired in 2013: refused. Surrounding whitespace is trimmed; spaces or
  dashes inside the number are refused, not guessed away.
- The birth date must exist, be 1900-01-01 or later and not be after today (China time).
- The owner must be at least 16 on the day of verification: from 16 a person who lives on
  their own income has full civil capacity (Civil Code art. 18); younger children need a
  guardian's consent, which is not a self-service flow.
- Names: 2-30 characters, either Chinese characters (with ``·`` between the parts of a
  transliterated name, as on ID cards of ethnic minorities) or Latin letters and single
  spaces; not both.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from typing import Final

from ewallet.identity.errors import InvalidIdNumberError, InvalidRealNameError
from ewallet.models.identity import User
from ewallet.security.crypto import FieldCipher, KeyedDigest

CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")
MIN_AGE: Final = 16
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final = "10X98765432"
# Province-level codes (GB/T 2260): the first two digits of every resident ID number.
PROVINCE_CODES: Final = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91}
)
_ID_SHAPE: Final = re.compile(r"[0-9]{17}[0-9X]")
_CJK: Final = r"\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef"
_CHINESE_NAME: Final = re.compile(rf"[{_CJK}]+(·[{_CJK}]+)*")
_LATIN_NAME: Final = re.compile(r"[A-Za-z]+( [A-Za-z]+)*")
NAME_MIN: Final = 2
NAME_MAX: Final = 30
CLASS_NAMES: Final = {1: "I", 2: "II", 3: "III"}


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A well-formed resident ID number and what it says about its holder."""

    value: str
    birth_date: date
    province: int

    @property
    def masked(self) -> str:
        """``110***********1234``: the province and the city, then the last four."""
        return self.value[:3] + "*" * 11 + self.value[-4:]


def check_character(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_id_number(raw: str, *, today: date) -> IdNumber:
    """The ID number in ``raw`` or ``invalid_id_number`` with the reason."""
    value = raw.strip().upper()
    if not _ID_SHAPE.fullmatch(value):
        raise InvalidIdNumberError("an ID number has 17 digits and a check digit or X")
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumberError("the check digit does not match")
    province = int(value[:2])
    if province not in PROVINCE_CODES:
        raise InvalidIdNumberError("the first two digits are not a province code")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumberError("the birth date does not exist") from None
    if born.year < 1900 or born > today:
        raise InvalidIdNumberError("the birth date is out of range")
    return IdNumber(value=value, birth_date=born, province=province)


def birth_date_of(value: str) -> date | None:
    """The birth date in a stored (already valid) number; None if it cannot be read."""
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def age_on(born: date, day: date) -> int:
    """Whole years between ``born`` and ``day`` (a 29 February birthday turns on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def normalize_real_name(raw: str) -> str:
    """The name as stored, or ``invalid_real_name``; see the module docstring for the rules."""
    name = unicodedata.normalize("NFKC", raw).strip()
    # Full-width and katakana middle dots are what Chinese keyboards type for "·".
    name = name.replace("・", "·").replace("•", "·")
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise InvalidRealNameError(f"a name has {NAME_MIN} to {NAME_MAX} characters")
    if not (_CHINESE_NAME.fullmatch(name) or _LATIN_NAME.fullmatch(name)):
        raise InvalidRealNameError("use Chinese characters (with ·) or Latin letters and spaces")
    return name


def mask_real_name(name: str) -> str:
    """张*三, *三, 阿**·****提 / J*** S****: first and last characters of Chinese names, the
    initials of Latin ones; the length stays visible so the owner recognises it."""
    if _LATIN_NAME.fullmatch(name):
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split(" "))
    if len(name) == 2:
        return "*" + name[1]
    return name[0] + "".join("·" if ch == "·" else "*" for ch in name[1:-1]) + name[-1]


def id_number_digest(digest: KeyedDigest, value: str) -> str:
    return digest(f"id-number:{value}")


def id_number_of(user: User, cipher: FieldCipher) -> str | None:
    """The verified ID number of ``user`` in clear, for checks that need it (PIN policy)."""
    if user.id_number_encrypted is None:
        return None
    return cipher.decrypt(user.id_number_encrypted, context=f"id_number:{user.id}")


def id_number_matches(user: User, digest: KeyedDigest, candidate: str) -> bool:
    """True if ``candidate`` is the user's verified ID number (a password-reset factor)."""
    if user.id_number_digest is None:
        return False
    value = candidate.strip().upper()
    return hmac.compare_digest(user.id_number_digest, id_number_digest(digest, value))


def tier_for(*, identity_verified: bool, has_bound_card: bool) -> int:
    """PBoC class: I phone only, II real name, III real name and a bound card."""
    if not identity_verified:
        return 1
    return 3 if has_bound_card else 2
