"""Request and response bodies of registration and the signed-in user's own account."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator

from ewallet.identity.schemas import (
    CodeText,
    DeviceKey,
    DeviceLabel,
    LocaleName,
    PasswordText,
    PhoneText,
    Strict,
    no_controls,
)
from ewallet.identity.sessions.schemas import TokensOut
from ewallet.kit.phone import mask_phone
from ewallet.models.identity import User


class RegisterRequest(Strict):
    phone: PhoneText
    verification_code: CodeText
    login_password: PasswordText
    locale: LocaleName | None = None
    device_id: DeviceKey | None = Field(
        default=None, description="the client's own stable device id; generated when absent"
    )
    device_label: DeviceLabel | None = None


class ProfilePatch(Strict):
    locale: LocaleName | None = None
    nickname: Annotated[str, AfterValidator(no_controls)] | None = None

    @model_validator(mode="after")
    def _nickname_shape(self) -> ProfilePatch:
        if self.nickname is not None:
            trimmed = unicodedata.normalize("NFC", self.nickname).strip()
            if len(trimmed) > 20:
                raise ValueError("nickname: at most 20 characters")
            self.nickname = trimmed or None
        return self


class PasswordChangeRequest(Strict):
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: PasswordText


class UserOut(BaseModel):
    id: str
    phone: str = Field(description="masked, e.g. 138****5678")
    tier: int
    status: str
    locale: str
    nickname: str | None
    payment_password_set: bool
    totp_enabled: bool
    identity_verified: bool
    login_password_changed_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            phone=mask_phone(user.phone),
            tier=user.tier,
            status=user.status,
            locale=user.locale,
            nickname=user.nickname,
            payment_password_set=user.payment_password_hash is not None,
            totp_enabled=user.totp_enabled_at is not None,
            identity_verified=user.identity_verified_at is not None,
            login_password_changed_at=user.login_password_changed_at,
            created_at=user.created_at,
        )


class RegisteredOut(BaseModel):
    user: UserOut
    tokens: TokensOut
