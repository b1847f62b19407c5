"""Request and response bodies of the session routes (tokens, refresh)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ewallet.identity.schemas import Strict
from ewallet.identity.sessions.service import IssuedTokens


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


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
