"""Staff sessions: who is calling, a fresh access token, sign-out.

Tokens: the access token (kind ``staff``) lives ``access_token_minutes`` and is renewed
with ``POST /v1/staff/sessions/refresh`` while it is still valid, so a console left idle
longer than that must sign in again; no token outlives its session, which ends
``staff_session_hours`` after sign-in (:mod:`.credentials` opens it). Every request also checks
the session row (:func:`authenticate_staff`), so sign-out and disabling take effect at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ewallet.audit.service import record_event
from ewallet.config import Settings
from ewallet.kit.db.engine import is_sqlite
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import UnauthorizedError
from ewallet.models.operations import StaffStatus
from ewallet.security.context import SecurityContext
from ewallet.services import Services
from ewallet.staff import repository as repo
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.views import StaffTokens


def totp_context(staff_id: str) -> str:
    """Binds an encrypted TOTP secret to its row: a secret copied to another row won't open."""
    return f"staff-totp:{staff_id}"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def issue_tokens(
    security: SecurityContext,
    *,
    settings: Settings,
    now: datetime,
    staff_id: str,
    session_id: str,
    session_expires_at: datetime,
    must_change_password: bool,
) -> StaffTokens:
    """An access token for a live session, never outliving it (no database work)."""
    expires_at = min(now + timedelta(minutes=settings.access_token_minutes), session_expires_at)
    # Token expiry is whole seconds; report the instant the token really stops working.
    expires_at = expires_at.replace(microsecond=0)
    token = security.tokens.issue(
        subject=staff_id, session_id=session_id, kind="staff", now=now, ttl=expires_at - now
    )
    return StaffTokens(token, expires_at, session_id, session_expires_at, must_change_password)


async def authenticate_staff(services: Services, *, token: str, ip: str | None) -> StaffPrincipal:
    """The staff member behind an access token, wherever it came from (a ``Bearer`` header,
    a chat socket's first frame). Role checks are the caller's (:mod:`ewallet.staff.deps`).

    Refusals, all ``401 unauthorized``, in order: a token that is not a valid, unexpired
    *staff* token (a customer's token is refused: the kind is signed into it); a session
    that does not exist or belongs to someone else; a session that has ended (signed out,
    expired) or whose staff member is no longer active. One statement, no lock.
    """
    now = services.clock.now()
    claims = services.security.tokens.verify(token, kind="staff", now=now)
    return await staff_session(
        services, session_id=claims.session_id, ip=ip, staff_id=claims.subject
    )


async def staff_session(
    services: Services, *, session_id: str, ip: str | None, staff_id: str | None = None
) -> StaffPrincipal:
    """The staff member of a live session, named by its id (the console's cookie) or by a
    token's claims (``staff_id`` then must match). ``401 unauthorized`` for a session that
    does not exist, belongs to someone else, has ended, or whose staff member is no longer
    active. One statement, no lock (:func:`_session_grant`)."""
    now = services.clock.now()
    grant = await _session_grant(services, session_id)
    if grant is None or (staff_id is not None and grant.staff_id != staff_id):
        raise UnauthorizedError("unknown session")
    ended = grant.revoked_at is not None or grant.expires_at <= now
    if ended or grant.status != StaffStatus.ACTIVE:
        raise UnauthorizedError("the session has ended; sign in again")
    return StaffPrincipal(
        staff_id=grant.staff_id,
        session_id=session_id,
        role=grant.role,
        must_change_password=grant.must_change_password,
        session_expires_at=grant.expires_at,
        ip=ip,
        email=grant.email,
        display_name=grant.display_name,
    )


async def _session_grant(services: Services, session_id: str) -> repo.SessionGrant | None:
    """The session's row and its staff member's, in one statement (every console page and
    staff API call reads it). On PostgreSQL the statement is sent outside a transaction
    (autocommit): one round trip instead of ``BEGIN``, the read and ``COMMIT``, and a
    single statement reads one snapshot either way. SQLite, whose round trips stay in the
    process, reads in a read-only unit."""
    engine = services.engine
    if is_sqlite(engine):

        async def load(uow: UnitOfWork) -> repo.SessionGrant | None:
            return await repo.session_grant(await uow.connection(), session_id)

        return await run_unit(engine, load, read_only=True)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        return await repo.session_grant(conn, session_id)


def refresh(services: Services, principal: StaffPrincipal) -> StaffTokens:
    """A fresh access token for the caller's live session (:func:`authenticate_staff`
    checked it); it never outlives the session."""
    return issue_tokens(
        services.security,
        settings=services.settings,
        now=services.clock.now(),
        staff_id=principal.staff_id,
        session_id=principal.session_id,
        session_expires_at=principal.session_expires_at,
        must_change_password=principal.must_change_password,
    )


async def sign_out(services: Services, principal: StaffPrincipal) -> None:
    """End the caller's session at once (``staff.signed_out`` audited); ending an already
    ended session changes nothing but the audit log."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await repo.revoke_session(conn, principal.session_id, services.clock.now())
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="staff.signed_out",
            subject_type="staff",
            subject_id=principal.staff_id,
            details={"session_id": principal.session_id},
        )

    await run_unit(services.engine, work)
