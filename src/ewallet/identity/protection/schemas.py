"""Request and response bodies of the freeze and anti-phishing-code routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, model_validator

from ewallet.identity.schemas import Secret, ShortCode, Strict


class FreezeIn(Strict):
    payment_password: Secret | None = None
    verification_code: ShortCode | None = Field(
        default=None, description="An SMS code of purpose `freeze`."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.payment_password is None) == (self.verification_code is None):
            raise ValueError("give exactly one of payment_password and verification_code")
        return self


class FreezeOut(BaseModel):
    status: Literal["frozen"] = "frozen"
    frozen_at: datetime


class UnfreezeIn(Strict):
    real_name: Annotated[str, Field(min_length=1, max_length=64)]
    id_number: Annotated[str, Field(min_length=1, max_length=32)]
    verification_code: ShortCode = Field(description="An SMS code of purpose `unfreeze`.")
    payment_password: Secret | None = None
    totp_code: ShortCode | None = Field(
        default=None, description="An authenticator code, where the authenticator is on."
    )

    @model_validator(mode="after")
    def _one_second_factor(self) -> Self:
        if (self.payment_password is None) == (self.totp_code is None):
            raise ValueError("give exactly one of payment_password and totp_code")
        return self


class UnfrozenOut(BaseModel):
    status: Literal["active"] = "active"
    unfrozen_at: datetime


class AntiPhishingCodeIn(Strict):
    code: Annotated[str, Field(min_length=1, max_length=32)]


class AntiPhishingCodeOut(BaseModel):
    anti_phishing_code: str | None
