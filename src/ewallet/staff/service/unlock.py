"""Unlocking a console left idle: the signed-in staff member proves the password again.

The console locks a browser after ``staff_idle_minutes`` without use (the session itself
lives on until its 8 hours are up); unlocking takes the staff member's password. Each try
counts against the same failure budget as sign-in (:func:`credentials.count_attempt`, on the
locked row, before the check), so a locked screen is no way round the sign-in lock: too many
wrong passwords lock the account, and the caller then ends the session. The password is
compared outside any transaction, as at sign-in.
"""

from __future__ import annotations

from ewallet.audit.service import record_event
from ewallet.identity.errors import InvalidCredentialsError, TooManyAttemptsError
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.services import Services
from ewallet.staff import repository as repo
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service.credentials import count_attempt


async def unlock_with_password(
    services: Services, principal: StaffPrincipal, *, password: str
) -> None:
    """Nothing when ``password`` is the staff member's; ``401 invalid_credentials`` when it
    is not, ``429 too_many_attempts`` while the account is locked (nothing checked). Both
    outcomes are audited (``staff.console_unlocked`` / ``staff.console_unlock_failed``)."""

    async def reserve(uow: UnitOfWork) -> repo.StaffRow | TooManyAttemptsError:
        conn = await uow.connection()
        row = await repo.staff_by_id(conn, principal.staff_id, for_update=True)
        assert row is not None  # a live session's staff row exists (rows are never deleted)
        refused = await count_attempt(
            conn, settings=services.settings, clock=services.clock, row=row
        )
        return row if refused is None else refused

    row = await run_unit(services.engine, reserve)
    if isinstance(row, TooManyAttemptsError):
        raise row
    matches = await services.security.passwords.verify(row.password_hash, password)

    async def settle(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        if matches:
            await repo.update_staff(conn, row.id, failures=0, locked_until=None)
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="staff.console_unlocked" if matches else "staff.console_unlock_failed",
            subject_type="staff",
            subject_id=row.id,
            details={"session_id": principal.session_id},
        )

    await run_unit(services.engine, settle)
    if not matches:
        raise InvalidCredentialsError("wrong password")
