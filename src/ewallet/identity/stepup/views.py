"""What step-up hands to other code: a pending challenge, a proof, a challenge's row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ewallet.identity.errors import StepUpRequiredError


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge just created: raise :meth:`error` to send the client to prove it."""

    id: str
    methods: list[str]
    expires_in: int
    sms_sent: bool

    def error(self) -> StepUpRequiredError:
        return StepUpRequiredError(
            "confirm it is you with an SMS code or your authenticator",
            challenge_id=self.id,
            methods=self.methods,
            expires_in=self.expires_in,
            sms_sent=self.sms_sent,
        )


@dataclass(frozen=True, slots=True)
class Proof:
    """Exactly one of the two: an SMS ``step_up`` code or an authenticator code."""

    verification_code: str | None = None
    totp_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChallengeRow:
    """A stored challenge (``step_up_challenges``)."""

    id: str
    user_id: str
    purpose: str
    methods: list[str]
    context: dict[str, Any]
    attempts: int
    expires_at: datetime
    completed_at: datetime | None
