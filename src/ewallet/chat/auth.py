"""Who is on a chat socket: the token sent in the socket's first message.

Browsers cannot set an ``Authorization`` header on a WebSocket, and a token in the URL ends
up in access logs and proxies, so the client opens the socket and sends
``{"type": "auth", "token": "<access token>"}`` first. The same checks as the HTTP
dependencies apply (signature, expiry, a live session; for staff an active account with
the right role and a changed one-time password); any failure closes with code 4401
(4403 for a staff member whose role may not chat).
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.identity.deps import Principal
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ForbiddenError, UnauthorizedError
from ewallet.models.tables import sessions
from ewallet.security.context import SecurityContext
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal, checked_roles
from ewallet.staff.service.sessions import authenticate_staff

CLOSE_UNAUTHORIZED: Final = 4401
CLOSE_FORBIDDEN: Final = 4403
CLOSE_NOT_FOUND: Final = 4404
CLOSE_CONFLICT: Final = 4409
CLOSE_DISABLED: Final = 4503
CHAT_ROLES: Final = checked_roles(("support_agent",))


async def customer_from_token(
    engine: AsyncEngine, *, security: SecurityContext, clock: Clock, token: str
) -> Principal:
    now = clock.now()
    claims = security.tokens.verify(token, kind="user", now=now)

    async def load(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        statement = select(sessions.c.revoked_at, sessions.c.expires_at, sessions.c.user_id).where(
            sessions.c.id == claims.session_id
        )
        return (await conn.execute(statement)).first()

    row = await run_unit(engine, load, read_only=True)
    if row is None or row.user_id != claims.subject:
        raise UnauthorizedError("unknown session")
    if row.revoked_at is not None or row.expires_at <= now:
        raise UnauthorizedError("the session has ended; sign in again")
    return Principal(user_id=claims.subject, session_id=claims.session_id)


async def agent_from_token(services: Services, *, token: str, ip: str | None) -> StaffPrincipal:
    """The support agent on a staff chat socket: the staff session checks of
    :func:`ewallet.staff.service.sessions.authenticate_staff` (``UnauthorizedError``,
    close with 4401), then the chat's own rule (``ForbiddenError``, close with 4403): a
    role that answers chats, and the one-time password already replaced."""
    principal = await authenticate_staff(services, token=token, ip=ip)
    if principal.must_change_password or not principal.may(CHAT_ROLES):
        raise ForbiddenError("your staff role does not answer chats")
    return principal
