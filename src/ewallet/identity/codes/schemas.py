"""Request and response bodies of ``POST /v1/verification-codes``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ewallet.identity.schemas import PhoneText, Strict

# The purposes a client may ask a code for (``bind_card`` codes are the card flow's own).
CodePurposeName = Literal[
    "register",
    "login",
    "reset_login_password",
    "reset_payment_password",
    "change_phone",
    "step_up",
    "freeze",
    "account_closure",
]


class CodeRequest(Strict):
    phone: PhoneText
    purpose: CodePurposeName


class CodeSentOut(BaseModel):
    expires_in: int = Field(description="seconds the code stays valid")
    resend_after: int = Field(description="seconds before another code may be asked for")
