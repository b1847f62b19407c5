"""Request fields that name a URL the wallet will call back (a merchant's webhook)."""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

MAX_URL_LENGTH: Final = 500


def checked_callback_url(value: str) -> str:
    """An absolute http(s) URL with a host: where webhooks may be sent."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


CallbackUrl = Annotated[str, Field(max_length=MAX_URL_LENGTH), AfterValidator(checked_callback_url)]
