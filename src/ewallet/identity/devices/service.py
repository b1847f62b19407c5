"""The signed-in user's devices: list them, sign one out (``/v1/me/devices``), or sign out
every device but the one in use (the web wallet's "sign out all other devices").

Signing a device out revokes its sessions at once and untrusts it: signing in there again
needs the step-up of a new device. Another user's device id answers ``not_found`` -- the
same as an id that does not exist -- and changes nothing.
"""

from __future__ import annotations

from ewallet.audit import Actor, record_event
from ewallet.identity.devices import repository as repo
from ewallet.identity.devices.views import DeviceView
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions import repository as sessions_repo
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.models.identity import SessionEndReason
from ewallet.services import Services


async def list_devices(services: Services, *, user_id: str, session_id: str) -> list[DeviceView]:
    """The user's devices not signed out, most recently seen first; ``current`` marks the
    device of ``session_id``."""

    async def work(uow: UnitOfWork) -> list[DeviceView]:
        conn = await uow.connection()
        session = await sessions_repo.get_session(conn, session_id)
        current_device = session.device_id if session is not None else None
        return [
            DeviceView(
                id=row.id,
                label=row.label,
                trusted=row.trusted_at is not None,
                first_seen_at=row.first_seen_at,
                last_seen_at=row.last_seen_at,
                current=row.id == current_device,
            )
            for row in await repo.list_devices(conn, user_id=user_id)
        ]

    return await run_unit(services.engine, work, read_only=True)


async def sign_out_device(
    services: Services, *, caller: Caller, user_id: str, device_id: str
) -> None:
    """Sign the device out and end its sessions (audited); ``not_found`` unless it is one
    of the user's live devices."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        now = services.clock.now()
        if not await repo.revoke_device(conn, user_id=user_id, device_id=device_id, now=now):
            raise NotFoundError("no such device")
        ended = await sessions_repo.revoke_sessions(
            conn, now=now, reason=SessionEndReason.DEVICE_SIGNED_OUT, device_id=device_id
        )
        await record_event(
            conn,
            clock=services.clock,
            actor=Actor("user", user_id, caller.ip),
            action="device.signed_out",
            subject_type="device",
            subject_id=device_id,
            details={"sessions_ended": len(ended)},
        )

    await run_unit(services.engine, work)


async def sign_out_other_devices(
    services: Services, *, caller: Caller, user_id: str, session_id: str
) -> int:
    """Sign out every device of the user but the one of ``session_id``, and end every
    session but ``session_id`` (API tokens and browsers alike; audited). The calling
    session and its device stay signed in and trusted. Returns how many sessions ended.

    No refusal: with nothing else signed in, nothing changes but the audit event.
    """

    async def work(uow: UnitOfWork) -> int:
        conn = await uow.connection()
        now = services.clock.now()
        session = await sessions_repo.get_session(conn, session_id)
        keep_device = session.device_id if session and session.user_id == user_id else None
        signed_out = await repo.revoke_other_devices(
            conn, user_id=user_id, keep_device_id=keep_device, now=now
        )
        ended = await sessions_repo.revoke_sessions(
            conn,
            now=now,
            reason=SessionEndReason.DEVICE_SIGNED_OUT,
            user_id=user_id,
            keep_session_id=session_id,
        )
        await record_event(
            conn,
            clock=services.clock,
            actor=Actor("user", user_id, caller.ip),
            action="device.signed_out_others",
            subject_type="session",
            subject_id=session_id,
            details={"devices_signed_out": len(signed_out), "sessions_ended": len(ended)},
        )
        return len(ended)

    return await run_unit(services.engine, work)
