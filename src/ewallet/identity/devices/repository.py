"""Queries on ``devices`` (Core, in the caller's transaction, no commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.ids import new_id
from ewallet.models.tables import devices


@dataclass(frozen=True, slots=True)
class DeviceRow:
    id: str
    user_id: str
    device_key: str
    label: str | None
    trusted_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None

    @property
    def trusted(self) -> bool:
        """Trusted and not signed out: signing in there needs no step-up."""
        return self.trusted_at is not None and self.revoked_at is None


def _device(row: Row[Any]) -> DeviceRow:
    return DeviceRow(
        id=row.id,
        user_id=row.user_id,
        device_key=row.device_key,
        label=row.label,
        trusted_at=row.trusted_at,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
    )


async def find_device(conn: AsyncConnection, *, user_id: str, device_key: str) -> DeviceRow | None:
    statement = select(devices).where(
        devices.c.user_id == user_id, devices.c.device_key == device_key
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else _device(row)


async def has_devices(conn: AsyncConnection, *, user_id: str) -> bool:
    statement = select(func.count()).select_from(devices).where(devices.c.user_id == user_id)
    return int((await conn.execute(statement)).scalar_one()) > 0


async def add_device(
    conn: AsyncConnection,
    *,
    user_id: str,
    device_key: str,
    label: str | None,
    now: datetime,
    ip: str | None,
    trusted: bool,
) -> str:
    device_id = new_id("dev")
    await conn.execute(
        insert(devices).values(
            id=device_id,
            user_id=user_id,
            device_key=device_key,
            label=label,
            trusted_at=now if trusted else None,
            first_seen_at=now,
            last_seen_at=now,
            last_ip=ip,
            revoked_at=None,
        )
    )
    return device_id


async def trust_device(
    conn: AsyncConnection, *, device_id: str, label: str | None, now: datetime, ip: str | None
) -> None:
    """Trusted from now on (again, if it had been signed out)."""
    values: dict[str, Any] = {"trusted_at": now, "revoked_at": None, "last_seen_at": now}
    values["last_ip"] = ip
    if label:
        values["label"] = label
    await conn.execute(update(devices).where(devices.c.id == device_id).values(**values))


async def touch_device(
    conn: AsyncConnection, *, device_id: str, now: datetime, ip: str | None
) -> None:
    await conn.execute(
        update(devices).where(devices.c.id == device_id).values(last_seen_at=now, last_ip=ip)
    )


async def list_devices(conn: AsyncConnection, *, user_id: str) -> list[DeviceRow]:
    """Devices not signed out, most recently seen first."""
    statement = (
        select(devices)
        .where(devices.c.user_id == user_id, devices.c.revoked_at.is_(None))
        .order_by(devices.c.last_seen_at.desc(), devices.c.id)
    )
    return [_device(row) for row in await conn.execute(statement)]


async def revoke_device(
    conn: AsyncConnection, *, user_id: str, device_id: str, now: datetime
) -> bool:
    """Sign a device out and untrust it; False if it is not this user's live device."""
    result = await conn.execute(
        update(devices)
        .where(
            devices.c.id == device_id,
            devices.c.user_id == user_id,
            devices.c.revoked_at.is_(None),
        )
        .values(revoked_at=now, trusted_at=None)
    )
    return result.rowcount == 1


async def revoke_other_devices(
    conn: AsyncConnection, *, user_id: str, keep_device_id: str | None, now: datetime
) -> list[str]:
    """Sign out and untrust every live device of the user but ``keep_device_id`` (None:
    all of them); returns the ids signed out."""
    conditions = [devices.c.user_id == user_id, devices.c.revoked_at.is_(None)]
    if keep_device_id is not None:
        conditions.append(devices.c.id != keep_device_id)
    ids = [row.id for row in await conn.execute(select(devices.c.id).where(*conditions))]
    if ids:
        await conn.execute(
            update(devices)
            .where(devices.c.id.in_(ids), devices.c.revoked_at.is_(None))
            .values(revoked_at=now, trusted_at=None)
        )
    return ids
