"""The signed-in user's devices: list them, sign one out (``/v1/me/devices``).

Signing a device out revokes its sessions at once and untrusts it: signing in there again
needs the step-up of a new device. Another user's device id answers ``not_found`` -- the
same as an id that does not exist -- and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.audit import Actor, record_event
from ewallet.identity import sessions_repository as repo
from ewallet.identity.deps import Principal
from ewallet.identity.runtime import Caller, IdentityRuntime
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class DeviceView:
    id: str
    label: str | None
    trusted: bool
    first_seen_at: datetime
    last_seen_at: datetime
    current: bool


async def list_devices(rt: IdentityRuntime, *, principal: Principal) -> list[DeviceView]:
    async def work(uow: UnitOfWork) -> list[DeviceView]:
        conn = await uow.connection()
        session = await repo.get_session(conn, principal.session_id)
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
            for row in await repo.list_devices(conn, user_id=principal.user_id)
        ]

    return await run_unit(rt.engine, work, read_only=True)


async def sign_out_device(
    rt: IdentityRuntime, *, caller: Caller, principal: Principal, device_id: str
) -> None:
    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        now = rt.clock.now()
        if not await repo.revoke_device(
            conn, user_id=principal.user_id, device_id=device_id, now=now
        ):
            raise NotFoundError("no such device")
        ended = await repo.revoke_sessions(
            conn, now=now, reason="device_signed_out", device_id=device_id
        )
        await record_event(
            conn,
            clock=rt.clock,
            actor=Actor("user", principal.user_id, caller.ip),
            action="device.signed_out",
            subject_type="device",
            subject_id=device_id,
            details={"sessions_ended": len(ended)},
        )

    await run_unit(rt.engine, work)
