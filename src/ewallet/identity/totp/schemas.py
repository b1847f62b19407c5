"""Request and response bodies of ``/v1/me/totp``."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, model_validator

from ewallet.identity.schemas import ShortCode, Strict


class TotpEnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCodeIn(Strict):
    totp_code: ShortCode


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each works once.")


class TotpDisableIn(Strict):
    totp_code: ShortCode | None = None
    recovery_code: ShortCode | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.totp_code is None) == (self.recovery_code is None):
            raise ValueError("give exactly one of totp_code and recovery_code")
        return self
