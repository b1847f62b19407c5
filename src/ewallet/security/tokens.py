"""Access tokens (short-lived, signed) and refresh tokens (random, stored hashed).

An access token is a JWT (HS256) naming the user and the session; every request also
checks that the session is still live, so signing out or revoking a device takes effect
at once, not when the token expires. Refresh tokens are opaque random strings: only their
SHA-256 is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import jwt

from ewallet.kit.errors import UnauthorizedError
from ewallet.security.crypto import sha256_hex

AUDIENCE = "ewallet"
CLOCK_SKEW_SECONDS = 60
TokenKind = Literal["user", "staff"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    session_id: str
    kind: TokenKind
    expires_at: datetime


class TokenSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(
        self, *, subject: str, session_id: str, kind: TokenKind, now: datetime, ttl: timedelta
    ) -> str:
        claims = {
            "sub": subject,
            "sid": session_id,
            "typ": kind,
            "aud": AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str, *, kind: TokenKind, now: datetime) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                # Times are checked below against the injected clock, not the machine's.
                options={
                    "require": ["sub", "sid", "typ", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            raise UnauthorizedError("invalid access token") from None
        if claims["typ"] != kind:
            raise UnauthorizedError("wrong kind of token")
        if int(claims["exp"]) <= int(now.timestamp()):
            raise UnauthorizedError("access token expired")
        if int(claims["iat"]) > int(now.timestamp()) + CLOCK_SKEW_SECONDS:
            raise UnauthorizedError("access token issued in the future")
        return AccessClaims(
            subject=str(claims["sub"]),
            session_id=str(claims["sid"]),
            kind=kind,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo),
        )


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token and the hash to store."""
    token = "rt_" + secrets.token_urlsafe(32)
    return token, sha256_hex(token)
