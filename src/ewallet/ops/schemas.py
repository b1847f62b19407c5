"""Bodies of the maintenance-window API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, StringConstraints

from ewallet.kit.request_model import RequestModel


class WindowIn(RequestModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    message: Annotated[
        str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
    ] = None


class PublicWindowOut(BaseModel):
    id: str
    starts_at: datetime
    ends_at: datetime
    message: str | None


class WindowOut(PublicWindowOut):
    created_by: str
    created_at: datetime


class WindowList(BaseModel):
    items: list[WindowOut]


class MaintenanceStatus(BaseModel):
    """What a client shows: a banner now (``active``) or a notice of what is coming."""

    active: bool
    current: PublicWindowOut | None
    until: datetime | None
    upcoming: list[PublicWindowOut]
