"""Sessions: opening one for a device, rotating its refresh token, signing out.

A session is one signed-in device. Its access tokens are short JWTs naming it; its refresh
tokens are random strings stored hashed and form one rotation family: each refresh marks the
presented token used and hands out a new one. A used token presented again means two parties
hold the family (a stolen token, or a client that kept an old one), so the whole session is
revoked -- the thief's and the owner's tokens alike -- and the event audit-logged; the owner
signs in again. Two concurrent refreshes with the same token count as a reuse too: strict,
because a grace window is exactly what a thief racing the owner would use.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit import Actor, record_event
from ewallet.identity.devices import repository as devices_repo
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions import repository as repo
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import UnauthorizedError
from ewallet.models.identity import SessionEndReason
from ewallet.security.crypto import sha256_hex
from ewallet.security.tokens import new_refresh_token
from ewallet.services import Services

T = TypeVar("T")
# A read of a feature's service for one user, inside the caller's unit of work (for
# ``read_in_session``): ``wallet.service.home_summary_in`` is one.
SessionRead = Callable[[UnitOfWork, str], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    device_key: str


class _Refused(Enum):
    UNKNOWN = "unknown"
    REUSED = "reused"


def new_device_key() -> str:
    """A device id for a client that did not send one; it should keep and resend it."""
    return "gen_" + secrets.token_urlsafe(18)


def access_token(services: Services, *, user_id: str, session_id: str) -> tuple[str, int]:
    ttl = timedelta(minutes=services.settings.access_token_minutes)
    token = services.security.tokens.issue(
        subject=user_id, session_id=session_id, kind="user", now=services.clock.now(), ttl=ttl
    )
    return token, int(ttl.total_seconds())


async def open_session(
    conn: AsyncConnection,
    services: Services,
    *,
    user_id: str,
    device_id: str,
    device_key: str,
) -> IssuedTokens:
    """A new session on ``device_id`` in the caller's transaction; the device's previous
    session (if any) ends, so one device holds one session."""
    now = services.clock.now()
    await repo.revoke_sessions(conn, now=now, reason=SessionEndReason.REPLACED, device_id=device_id)
    session_id = await repo.add_session(
        conn,
        user_id=user_id,
        device_id=device_id,
        now=now,
        expires_at=now + timedelta(days=services.settings.refresh_token_days),
    )
    refresh, refresh_hash = new_refresh_token()
    await repo.add_refresh_token(conn, session_id=session_id, token_hash=refresh_hash, now=now)
    token, expires_in = access_token(services, user_id=user_id, session_id=session_id)
    return IssuedTokens(token, expires_in, refresh, device_key)


async def refresh(services: Services, *, caller: Caller, refresh_token: str) -> IssuedTokens:
    """``POST /v1/sessions/refresh``: the presented token is used up, a new one (and an
    access token) comes back.

    Refusals (``unauthorized``): an unknown, expired or revoked token; a token used before
    (the whole session is revoked and the reuse audited, committed before the refusal).
    """
    token_hash = sha256_hex(refresh_token)

    async def work(uow: UnitOfWork) -> IssuedTokens | _Refused:
        conn = await uow.connection()
        now = services.clock.now()
        row = await repo.find_refresh_token(conn, token_hash)
        if row is None or not row.session.live(now):
            return _Refused.UNKNOWN
        session = row.session
        if row.used_at is not None or not await repo.use_refresh_token(
            conn, token_id=row.id, now=now
        ):
            await repo.revoke_sessions(
                conn, now=now, reason=SessionEndReason.REFRESH_TOKEN_REUSE, session_id=session.id
            )
            await record_event(
                conn,
                clock=services.clock,
                actor=Actor("anonymous", None, caller.ip),
                action="auth.refresh_token_reused",
                subject_type="user",
                subject_id=session.user_id,
                details={"session_id": session.id},
            )
            return _Refused.REUSED
        await repo.extend_session(
            conn,
            session_id=session.id,
            now=now,
            expires_at=now + timedelta(days=services.settings.refresh_token_days),
        )
        if session.device_id is not None:
            await devices_repo.touch_device(
                conn, device_id=session.device_id, now=now, ip=caller.ip
            )
        new_token, new_hash = new_refresh_token()
        await repo.add_refresh_token(conn, session_id=session.id, token_hash=new_hash, now=now)
        token, expires_in = access_token(services, user_id=session.user_id, session_id=session.id)
        return IssuedTokens(token, expires_in, new_token, row.device_key or "")

    outcome = await run_unit(services.engine, work)
    if outcome is _Refused.REUSED:
        raise UnauthorizedError("this refresh token was already used: the session is revoked")
    if isinstance(outcome, _Refused):
        raise UnauthorizedError("unknown, expired or revoked refresh token")
    return outcome


async def sign_out(services: Services, *, caller: Caller, user_id: str, session_id: str) -> None:
    """``DELETE /v1/sessions/current``: end the calling session (its access and refresh
    tokens stop working at once); audited. No refusal: an ended session stays ended."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await repo.revoke_sessions(
            conn,
            now=services.clock.now(),
            reason=SessionEndReason.SIGNED_OUT,
            session_id=session_id,
        )
        await record_event(
            conn,
            clock=services.clock,
            actor=Actor("user", user_id, caller.ip),
            action="auth.signed_out",
            subject_type="session",
            subject_id=session_id,
        )

    await run_unit(services.engine, work)


async def live_session_user(services: Services, *, session_id: str) -> str:
    """The user of ``session_id`` while the session is live (not ended, not expired).

    How a browser's cookie is checked on every page: the same row and the same rule as an
    access token's session, so an ended session ends the browser at once.
    Refusal: ``unauthorized``."""

    async def load(uow: UnitOfWork) -> str | None:
        return await live_session_user_in(uow, services, session_id=session_id)

    user_id = await run_unit(services.engine, load, read_only=True)
    if user_id is None:
        raise UnauthorizedError("the session has ended; sign in again")
    return user_id


async def live_session(services: Services, *, session_id: str) -> repo.SessionRow:
    """:func:`live_session_user` with the session's row: the web wallet's principal also
    names the device the session was opened on (risk's device features). Same single read.
    Refusal: ``unauthorized``."""

    async def load(uow: UnitOfWork) -> repo.SessionRow | None:
        row = await repo.get_session(await uow.connection(), session_id)
        return row if row is not None and row.live(services.clock.now()) else None

    row = await run_unit(services.engine, load, read_only=True)
    if row is None:
        raise UnauthorizedError("the session has ended; sign in again")
    return row


async def live_session_user_in(
    uow: UnitOfWork, services: Services, *, session_id: str
) -> str | None:
    """:func:`live_session_user` inside the caller's unit of work; None for a session that
    has ended (or never was)."""
    row = await repo.get_session(await uow.connection(), session_id)
    if row is None or not row.live(services.clock.now()):
        return None
    return row.user_id


async def read_in_session(
    services: Services, *, session_id: str, read: SessionRead[T]
) -> tuple[str, T] | None:
    """The user of the live session ``session_id`` and what ``read`` reads for them, in one
    read-only unit of work; None, with nothing read, if the session has ended.

    A web page that shows what one service reads checks its cookie's session with the
    same row and rule as :func:`live_session_user`, in the same transaction as the read
    (one round of begin and commit instead of two). The session is checked first and
    ``read`` runs only for its live user; what ``read`` raises is raised as it is."""

    async def work(uow: UnitOfWork) -> tuple[str, T] | None:
        user_id = await live_session_user_in(uow, services, session_id=session_id)
        if user_id is None:
            return None
        return user_id, await read(uow, user_id)

    return await run_unit(services.engine, work, read_only=True)


def session_of(services: Services, tokens: IssuedTokens) -> str:
    """The session id that freshly issued tokens belong to."""
    claims = services.security.tokens.verify(
        tokens.access_token, kind="user", now=services.clock.now()
    )
    return claims.session_id
