"""Who is calling: the signed-in user behind a Bearer access token.

Every ``/v1`` route that is not public declares ``user: CurrentUser``. The token's
signature and expiry are checked, then the session it names must still be live (not
signed out, not revoked, not expired) and the user must exist, so revocation is immediate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from ewallet.audit.service import Actor
from ewallet.http.deps import ClockDep, EngineDep
from ewallet.identity.sessions.repository import SessionRow, get_session
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import UnauthorizedError
from ewallet.security.context import SecurityContext
from ewallet.security.tokens import AccessClaims


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated user of this request and the session (device) they use."""

    user_id: str
    session_id: str
    # The device the session was opened on (``devices.id``): risk's device age and novelty.
    device_id: str | None = None


def app_security(app: Any) -> SecurityContext:
    security: SecurityContext = app.state.security
    return security


async def get_security(request: Request) -> SecurityContext:
    return app_security(request.app)


SecurityDep = Annotated[SecurityContext, Depends(get_security)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def verify_user_token(request: Request, security: SecurityContext, clock: Clock) -> AccessClaims:
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("sign in first: no bearer token")
    return security.tokens.verify(token, kind="user", now=clock.now())


async def current_principal(
    request: Request, engine: EngineDep, security: SecurityDep, clock: ClockDep
) -> Principal:
    claims = verify_user_token(request, security, clock)
    now = clock.now()

    async def load(uow: UnitOfWork) -> SessionRow | None:
        return await get_session(await uow.connection(), claims.session_id)

    row = await run_unit(engine, load, read_only=True)
    if row is None or row.user_id != claims.subject:
        raise UnauthorizedError("unknown session")
    if row.revoked_at is not None or row.expires_at <= now:
        raise UnauthorizedError("the session has ended; sign in again")
    principal = Principal(
        user_id=claims.subject, session_id=claims.session_id, device_id=row.device_id
    )
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def user_actor(request: Request, user: Principal) -> Actor:
    """The signed-in user as the actor of an audited use case, with the client's address."""
    return Actor("user", user.user_id, request.client.host if request.client else None)


Authenticated = Depends(current_principal)
"""Listed before ``Idempotent`` in a route's dependencies: the key is claimed only for a
signed-in user (the endpoint's ``user: CurrentUser`` reuses the same principal)."""


async def idempotency_scope(request: Request) -> str:
    """Scope Idempotency-Keys by the authenticated user, merchant or staff member.

    Never by the token: a refreshed token replays its own requests, and a signed-out one
    never reaches a stored answer (authentication ran, and refused, before the key). A
    request that carries credentials nobody checked yet means the route lists
    ``Idempotent`` before its authentication: a wiring bug, refused before any claim.
    """
    state = request.state
    principal = getattr(state, "principal", None)
    if isinstance(principal, Principal):
        return f"user:{principal.user_id}"
    merchant = getattr(state, "merchant", None)
    if merchant is not None:
        return f"merchant:{merchant.merchant_id}"
    staff = getattr(state, "staff", None)
    if staff is not None:
        return f"staff:{staff.staff_id}"
    if request.headers.get("authorization"):
        raise RuntimeError("Idempotent must come after the route's authentication")
    return "anonymous"
