"""Field types shared by the request bodies of identity's sub-features.

Phones arrive as free text and are judged by :func:`ewallet.kit.phone.parse_phone`
(``invalid_phone``), passwords by the policy (``weak_password``); only shapes no client
should ever send -- wrong JSON types, absurd lengths, unknown fields -- stop here as
``validation_error``.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from ewallet.kit.request_model import RequestModel

LocaleName = Literal["zh-CN", "en"]


def _digits(value: Any) -> Any:
    """Codes typed on a Chinese keyboard arrive in full-width digits, sometimes with spaces."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).replace(" ", "")
    return value


def no_controls(value: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ValueError("control characters are not allowed")
    return value


PhoneText = Annotated[str, Field(max_length=64, examples=["+86 138 1234 5678"])]
CodeText = Annotated[str, BeforeValidator(_digits), Field(pattern=r"^[0-9]{6}$")]
PasswordText = Annotated[str, Field(max_length=1024)]
DeviceKey = Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,128}$")]
DeviceLabel = Annotated[str, Field(max_length=120), AfterValidator(no_controls)]


class Strict(RequestModel):
    """A request body of identity: unknown fields are refused."""


# Secrets of the account-security routes arrive as plain bounded strings: whether a PIN has
# 6 digits or an ID number a valid check digit is the service's to judge, so that the
# answer carries its own code (``weak_payment_password``, ``invalid_id_number`` ...)
# rather than a generic ``validation_error``.
Secret = Annotated[str, Field(min_length=1, max_length=128)]
ShortCode = Annotated[str, Field(min_length=1, max_length=32)]
