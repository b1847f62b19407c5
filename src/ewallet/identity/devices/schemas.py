"""Response bodies of ``/v1/me/devices``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ewallet.identity.devices.views import DeviceView


class DeviceOut(BaseModel):
    id: str
    label: str | None
    trusted: bool
    first_seen_at: datetime
    last_seen_at: datetime
    current: bool

    @classmethod
    def of(cls, view: DeviceView) -> DeviceOut:
        return cls(
            id=view.id,
            label=view.label,
            trusted=view.trusted,
            first_seen_at=view.first_seen_at,
            last_seen_at=view.last_seen_at,
            current=view.current,
        )


class DeviceListOut(BaseModel):
    items: list[DeviceOut]
