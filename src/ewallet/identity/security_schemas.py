"""Request and response bodies of the account-security endpoints.

Secrets arrive as plain bounded strings: whether a PIN has 6 digits or an ID number a
valid check digit is the service's to judge, so that the answer carries its own code
(``weak_payment_password``, ``invalid_id_number`` ...) rather than a generic
``validation_error``. Only shape errors (missing fields, unknown fields, absurd lengths,
both or neither of two alternatives) are ``validation_error``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, model_validator

from ewallet.identity.protection import NoticeView
from ewallet.identity.realname import VerifiedIdentity
from ewallet.kit.request_model import RequestModel

Secret = Annotated[str, Field(min_length=1, max_length=128)]
ShortCode = Annotated[str, Field(min_length=1, max_length=32)]


class _In(RequestModel):
    """A request body of this module: unknown fields are refused."""


class PaymentPasswordIn(_In):
    """``{payment_password}`` sets the first PIN; with ``current_payment_password``, changes it."""

    payment_password: Secret
    current_payment_password: Secret | None = None


class PasswordResetIn(_In):
    phone: Annotated[str, Field(min_length=1, max_length=32)]
    verification_code: ShortCode
    kind: Literal["login", "payment"]
    new_password: Secret
    identity: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="The ID number (a bound card's number once cards exist)."
    )


class TotpEnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCodeIn(_In):
    totp_code: ShortCode


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each works once.")


class TotpDisableIn(_In):
    totp_code: ShortCode | None = None
    recovery_code: ShortCode | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.totp_code is None) == (self.recovery_code is None):
            raise ValueError("give exactly one of totp_code and recovery_code")
        return self


class IdentityIn(_In):
    real_name: Annotated[str, Field(min_length=1, max_length=64)]
    id_number: Annotated[str, Field(min_length=1, max_length=32)]


class IdentityOut(BaseModel):
    real_name_masked: str
    id_number_masked: str
    tier: int
    verified_at: datetime

    @classmethod
    def of(cls, verified: VerifiedIdentity) -> IdentityOut:
        return cls(
            real_name_masked=verified.real_name_masked,
            id_number_masked=verified.id_number_masked,
            tier=verified.tier,
            verified_at=verified.verified_at,
        )


class FreezeIn(_In):
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


class AntiPhishingCodeIn(_In):
    code: Annotated[str, Field(min_length=1, max_length=32)]


class AntiPhishingCodeOut(BaseModel):
    anti_phishing_code: str | None


class NotificationOut(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    created_at: datetime
    read: bool
    security: bool

    @classmethod
    def of(cls, view: NoticeView) -> NotificationOut:
        return cls(
            id=view.id,
            kind=view.kind,
            title=view.title,
            body=view.body,
            created_at=view.created_at,
            read=view.read,
            security=view.security,
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
