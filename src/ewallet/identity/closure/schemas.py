"""Request and response bodies of ``GET``/``POST /v1/me/closure``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ewallet.identity.closure.views import Blocker
from ewallet.identity.schemas import Secret, ShortCode, Strict


class ClosureIn(Strict):
    payment_password: Secret
    verification_code: ShortCode = Field(description="An SMS code of purpose `account_closure`.")


class ClosureCheckOut(BaseModel):
    may_close: bool
    blockers: list[Blocker] = Field(
        description="Every reason the account cannot close yet (empty: it may close)."
    )


class ClosureOut(BaseModel):
    status: Literal["closed"] = "closed"
    closed_at: datetime
    personal_data_erased_after: datetime
