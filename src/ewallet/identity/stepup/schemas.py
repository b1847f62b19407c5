"""Request and response bodies of the step-up routes (``/v1/sessions/step-up``,
``/v1/me/step-up``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from ewallet.identity.schemas import CodeText, DeviceLabel, Strict


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


class ChallengePassedOut(BaseModel):
    challenge_id: str
    completed: Literal[True] = True
