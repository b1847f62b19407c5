"""Phone numbers: what users type in, what we store (E.164), what we show (masked).

Accepted: mainland mobiles typed any usual way (``13812345678``, ``+86 138 1234 5678``,
``0086-138-1234-5678``, full-width digits from a Chinese keyboard) and mobiles of other
countries in E.164 (``+44 7911 123456``). Refused with ``invalid_phone``: letters (the
parsing library would read ``1-800-FLOWERS`` as digits), landlines, toll-free and premium
numbers, anything too short or too long. Numbers the library cannot tell apart
(``FIXED_LINE_OR_MOBILE``, e.g. North America) are accepted: an SMS code proves them anyway.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from ewallet.kit.errors import DomainError

DEFAULT_REGION: Final = "CN"
MAX_INPUT_LENGTH: Final = 32
# After NFKC: an optional leading +, then digits with spaces or dashes between them.
_SHAPE: Final = re.compile(r"\+?[0-9](?:[ \-]?[0-9])*")
_MOBILE_TYPES: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class InvalidPhoneError(DomainError):
    code = "invalid_phone"
    status = 422


def parse_phone(raw: str) -> str:
    """The E.164 form of ``raw`` if it is an accepted mobile number, else ``invalid_phone``."""
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidPhoneError("the phone number is too long")
    text = unicodedata.normalize("NFKC", raw).strip()
    text = re.sub(r"\s+", " ", text)
    if not _SHAPE.fullmatch(text):
        raise InvalidPhoneError("a phone number has digits, and optionally +, spaces or dashes")
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException:
        raise InvalidPhoneError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError("not a valid phone number")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidPhoneError("not a mobile number: SMS codes need a mobile phone")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """``+8613812345678`` → ``138****5678``; other countries keep their code: ``+44 791****3456``.

    The first three and last four digits stay (what Chinese wallets show, enough for the
    owner to recognise the number); shorter national numbers keep only their last two.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return "****"
    national = phonenumbers.national_significant_number(number)
    if len(national) >= 9:
        masked = national[:3] + "****" + national[-4:]
    else:
        masked = "*" * max(len(national) - 2, 2) + national[-2:]
    if number.country_code == 86:
        return masked
    return f"+{number.country_code} {masked}"
