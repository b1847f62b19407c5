"""Request bodies of ``POST /v1/sessions`` (the answers are the session routes' own)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from ewallet.identity.schemas import CodeText, DeviceKey, DeviceLabel, PhoneText, Strict


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
