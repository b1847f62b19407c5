"""Replacing a staff member's authenticator: one admin asks, a different admin approves.

A staff member who lost the phone with their authenticator cannot sign in (TOTP is
mandatory) and cannot fix it alone. An admin asks for a reset with a reason
(:func:`request_totp_reset`); a *second* admin approves it (:func:`approve_totp_reset`),
which makes a new TOTP secret, shows it this once to the approving admin (to hand over in
person), and ends every session of the staff member. Either may turn it down
(:func:`reject_totp_reset`). Nobody decides on a reset of their own authenticator, and the
admin who asked cannot approve: one person alone can never take over a staff account
this way. A request not decided within :data:`RESET_LIFETIME` expires. Every step is
audited (``staff.totp_reset_requested``, ``_approved``, ``_rejected``), in the same
transaction as the change.

Locks: staff rows first (in id order), then the reset row, so a request, a decision and
an admin change on the same people settle one after the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import pyotp
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UnauthorizedError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.models.operations import StaffStatus, TotpResetStatus
from ewallet.services import Services
from ewallet.staff import repository as repo
from ewallet.staff.errors import (
    OwnTotpResetError,
    SecondAdminRequiredError,
    StaffDisabledError,
    TotpResetClosedError,
    TotpResetPendingError,
)
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service.accounts import TOTP_ISSUER
from ewallet.staff.service.sessions import totp_context
from ewallet.staff.views import ApprovedTotpReset, TotpResetView

RESET_LIFETIME: Final = timedelta(hours=24)
REASON_MAX: Final = 200


def _reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if reason is None and required:
        raise ValidationFailedError("say why the authenticator is reset")
    if reason is not None and len(reason) > REASON_MAX:
        raise ValidationFailedError(f"a reason has at most {REASON_MAX} characters")
    return reason


async def request_totp_reset(
    services: Services, principal: StaffPrincipal, *, staff_id: str, reason: str
) -> TotpResetView:
    """Ask for ``staff_id``'s authenticator to be replaced; pending until a second admin
    decides or it expires (``staff.totp_reset_requested`` audited with the reason).

    Refusals in order: ``422 validation_error`` (no reason, or a long one); ``404
    not_found``; ``403 staff_disabled`` (the staff member is disabled: nothing to reset);
    ``409 totp_reset_pending`` (one already waits; ``reset_id`` names it). Locks the
    staff member's row, so two requests cannot both be pending.
    """
    why = _reason(reason, required=True)
    clock = services.clock

    async def work(uow: UnitOfWork) -> TotpResetView:
        conn = await uow.connection()
        target = (await repo.lock_staff(conn, {staff_id})).get(staff_id)
        if target is None:
            raise NotFoundError("no such staff member")
        if target.status != StaffStatus.ACTIVE:
            raise StaffDisabledError("this staff account is disabled")
        now = clock.now()
        waiting = await repo.open_totp_reset_of(conn, staff_id, now=now)
        if waiting is not None:
            raise TotpResetPendingError(
                "a reset of this authenticator already waits for approval", reset_id=waiting.id
            )
        reset_id = new_id("tre")
        await repo.insert_totp_reset(
            conn,
            id=reset_id,
            staff_id=staff_id,
            requested_by=principal.staff_id,
            reason=why,
            status=TotpResetStatus.PENDING,
            created_at=now,
            expires_at=now + RESET_LIFETIME,
        )
        await record_event(
            conn,
            clock=clock,
            actor=principal.actor(),
            action="staff.totp_reset_requested",
            subject_type="staff",
            subject_id=staff_id,
            details={"reset_id": reset_id, "reason": why},
        )
        view = await repo.totp_reset(conn, reset_id, now=now)
        assert view is not None
        return view

    return await run_unit(services.engine, work)


async def list_totp_resets(
    services: Services, *, open_only: bool, limit: int, cursor: str | None
) -> Page[TotpResetView]:
    """Resets newest first: only those still waiting (``open_only``), or all of them.

    Refusals: ``422 validation_error`` (a limit out of range, a malformed cursor).
    """
    limit = check_limit(limit)
    before = decode_cursor(cursor).get("before") if cursor is not None else None
    if cursor is not None and not isinstance(before, str):
        raise ValidationFailedError("malformed cursor")

    async def work(uow: UnitOfWork) -> list[TotpResetView]:
        return await repo.totp_resets_page(
            await uow.connection(),
            now=services.clock.now(),
            open_only=open_only,
            before_id=before if isinstance(before, str) else None,
            limit=limit,
        )

    views = await run_unit(services.engine, work, read_only=True)
    items = views[:limit]
    next_cursor = encode_cursor({"before": items[-1].id}) if len(views) > limit else None
    return Page(items, next_cursor)


def _deciding(view: TotpResetView, principal: StaffPrincipal) -> None:
    """Who may decide (both ways), then whether the request is still open."""
    if view.staff_id == principal.staff_id:
        raise OwnTotpResetError("a reset of your own authenticator is for other admins")
    if view.state != TotpResetStatus.PENDING:
        raise TotpResetClosedError(f"this reset is {view.state}", state=view.state)


async def _locked_reset(
    conn: AsyncConnection, principal: StaffPrincipal, reset_id: str, now: datetime
) -> tuple[TotpResetView, dict[str, repo.StaffRow]]:
    """The reset, read again after locking the staff rows concerned (the caller's and the
    staff member's, in id order) and then the reset row; the caller must still be active."""
    first = await repo.totp_reset(conn, reset_id, now=now)
    if first is None:
        raise NotFoundError("no such authenticator reset")
    rows = await repo.lock_staff(conn, {principal.staff_id, first.staff_id})
    caller = rows.get(principal.staff_id)
    if caller is None or caller.status != StaffStatus.ACTIVE:
        raise UnauthorizedError("the session has ended; sign in again")
    view = await repo.totp_reset(conn, reset_id, now=now, for_update=True)
    assert view is not None  # resets are never deleted
    return view, rows


async def approve_totp_reset(
    services: Services, principal: StaffPrincipal, *, reset_id: str
) -> ApprovedTotpReset:
    """Approve a pending reset as the second admin: a new TOTP secret replaces the old one
    (shown once, in the answer), the staff member's sessions end, and a sign-in lock from
    failed codes is lifted (``staff.totp_reset_approved`` audited).

    Refusals in order: ``404 not_found``; ``401 unauthorized`` (the caller was disabled
    meanwhile); ``403 own_totp_reset`` (the caller's own authenticator); ``409
    totp_reset_closed`` (approved, rejected or expired already; ``state`` says which);
    ``403 second_admin_required`` (the caller asked for it); ``403 staff_disabled``.
    Nothing changes on a refusal.
    """
    secret = pyotp.random_base32()
    clock, cipher = services.clock, services.security.cipher

    async def work(uow: UnitOfWork) -> tuple[TotpResetView, int, str]:
        conn = await uow.connection()
        now = clock.now()
        view, rows = await _locked_reset(conn, principal, reset_id, now)
        _deciding(view, principal)
        if view.requested_by == principal.staff_id:
            raise SecondAdminRequiredError("a second admin must approve the reset you asked for")
        target = rows[view.staff_id]
        if target.status != StaffStatus.ACTIVE:
            raise StaffDisabledError("this staff account is disabled")
        await repo.update_staff(
            conn,
            target.id,
            totp_secret_encrypted=cipher.encrypt(secret, context=totp_context(target.id)),
            totp_last_step=None,
            failures=0,
            locked_until=None,
        )
        ended = await repo.revoke_sessions_of(conn, target.id, now)
        await repo.decide_totp_reset(
            conn,
            reset_id,
            status=TotpResetStatus.APPROVED,
            decided_by=principal.staff_id,
            decided_at=now,
        )
        await record_event(
            conn,
            clock=clock,
            actor=principal.actor(),
            action="staff.totp_reset_approved",
            subject_type="staff",
            subject_id=target.id,
            details={
                "reset_id": reset_id,
                "requested_by": view.requested_by,
                "sessions_ended": ended,
            },
        )
        decided = await repo.totp_reset(conn, reset_id, now=now)
        assert decided is not None
        return decided, ended, target.email

    view, ended, email = await run_unit(services.engine, work)
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)
    return ApprovedTotpReset(view, secret, uri, ended)


async def reject_totp_reset(
    services: Services, principal: StaffPrincipal, *, reset_id: str, reason: str | None
) -> TotpResetView:
    """Turn a pending reset down -- any admin but the staff member concerned, the one who
    asked included (to withdraw it) -- with an optional reason
    (``staff.totp_reset_rejected`` audited). The authenticator stays as it was.

    Refusals in order: ``422 validation_error`` (a long reason); ``404 not_found``; ``401
    unauthorized``; ``403 own_totp_reset``; ``409 totp_reset_closed``.
    """
    why = _reason(reason, required=False)
    clock = services.clock

    async def work(uow: UnitOfWork) -> TotpResetView:
        conn = await uow.connection()
        now = clock.now()
        view, _ = await _locked_reset(conn, principal, reset_id, now)
        _deciding(view, principal)
        await repo.decide_totp_reset(
            conn,
            reset_id,
            status=TotpResetStatus.REJECTED,
            decided_by=principal.staff_id,
            decided_at=now,
            decision_reason=why,
        )
        await record_event(
            conn,
            clock=clock,
            actor=principal.actor(),
            action="staff.totp_reset_rejected",
            subject_type="staff",
            subject_id=view.staff_id,
            details={"reset_id": reset_id, "reason": why},
        )
        decided = await repo.totp_reset(conn, reset_id, now=now)
        assert decided is not None
        return decided

    return await run_unit(services.engine, work)
