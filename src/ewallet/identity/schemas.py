"""Request and response bodies of the identity endpoints (separate from the ORM tables).

Phones arrive as free text and are judged by :func:`ewallet.kit.phone.parse_phone`
(``invalid_phone``), passwords by the policy (``weak_password``); only shapes no client
should ever send -- wrong JSON types, absurd lengths, unknown fields -- stop here as
``validation_error``.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, model_validator

from ewallet.identity.sessions import IssuedTokens
from ewallet.kit.phone import mask_phone
from ewallet.kit.request_model import RequestModel
from ewallet.models.identity import User

LocaleName = Literal["zh-CN", "en"]
CodePurposeName = Literal[
    "register",
    "login",
    "reset_login_password",
    "reset_payment_password",
    "change_phone",
    "step_up",
    "freeze",
]


def _digits(value: Any) -> Any:
    """Codes typed on a Chinese keyboard arrive in full-width digits, sometimes with spaces."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).replace(" ", "")
    return value


def _no_controls(value: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ValueError("control characters are not allowed")
    return value


PhoneText = Annotated[str, Field(max_length=64, examples=["+86 138 1234 5678"])]
CodeText = Annotated[str, BeforeValidator(_digits), Field(pattern=r"^[0-9]{6}$")]
PasswordText = Annotated[str, Field(max_length=1024)]
DeviceKey = Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,128}$")]
DeviceLabel = Annotated[str, Field(max_length=120), AfterValidator(_no_controls)]


class Strict(RequestModel):
    """A request body of this module: unknown fields are refused."""


class CodeRequest(Strict):
    phone: PhoneText
    purpose: CodePurposeName


class CodeSentOut(BaseModel):
    expires_in: int = Field(description="seconds the code stays valid")
    resend_after: int = Field(description="seconds before another code may be asked for")


class RegisterRequest(Strict):
    phone: PhoneText
    verification_code: CodeText
    login_password: PasswordText
    locale: LocaleName | None = None
    device_id: DeviceKey | None = Field(
        default=None, description="the client's own stable device id; generated when absent"
    )
    device_label: DeviceLabel | None = None


class SignInRequest(Strict):
    """``login_password`` or ``verification_code`` (purpose ``login``), not both."""

    phone: PhoneText
    login_password: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    verification_code: CodeText | None = None
    device_id: DeviceKey | None = None
    device_label: DeviceLabel | None = None

    @model_validator(mode="after")
    def _one_credential(self) -> SignInRequest:
        if (self.login_password is None) == (self.verification_code is None):
            raise ValueError("give exactly one of login_password and verification_code")
        return self


class StepUpRequest(Strict):
    """``verification_code`` (an SMS ``step_up`` code) or ``totp_code``, not both."""

    challenge_id: Annotated[str, Field(min_length=1, max_length=40)]
    verification_code: CodeText | None = None
    totp_code: CodeText | None = None
    device_label: DeviceLabel | None = None

    @model_validator(mode="after")
    def _one_proof(self) -> StepUpRequest:
        if (self.verification_code is None) == (self.totp_code is None):
            raise ValueError("give exactly one of verification_code and totp_code")
        return self


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class ProfilePatch(Strict):
    locale: LocaleName | None = None
    nickname: Annotated[str, AfterValidator(_no_controls)] | None = None

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


class TokensOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 -- the scheme's name, not a secret
    expires_in: int = Field(description="seconds the access token lives")
    refresh_token: str
    device_id: str = Field(description="the device id this session is bound to; send it again")

    @classmethod
    def of(cls, tokens: IssuedTokens) -> TokensOut:
        return cls(
            access_token=tokens.access_token,
            expires_in=tokens.expires_in,
            refresh_token=tokens.refresh_token,
            device_id=tokens.device_key,
        )


class SignedInOut(BaseModel):
    tokens: TokensOut


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


class DeviceOut(BaseModel):
    id: str
    label: str | None
    trusted: bool
    first_seen_at: datetime
    last_seen_at: datetime
    current: bool


class DeviceListOut(BaseModel):
    items: list[DeviceOut]


class ChallengePassedOut(BaseModel):
    challenge_id: str
    completed: Literal[True] = True
