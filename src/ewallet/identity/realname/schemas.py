"""Request and response bodies of ``POST /v1/me/identity``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ewallet.identity.realname.views import VerifiedIdentity
from ewallet.identity.schemas import Strict


class IdentityIn(Strict):
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
