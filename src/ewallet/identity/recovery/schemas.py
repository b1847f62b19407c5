"""Request body of ``POST /v1/password-resets``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ewallet.identity.schemas import Secret, ShortCode, Strict


class PasswordResetIn(Strict):
    phone: Annotated[str, Field(min_length=1, max_length=32)]
    verification_code: ShortCode
    kind: Literal["login", "payment"]
    new_password: Secret
    identity: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="The ID number, or a bound card's full number."
    )
