"""Maintenance windows as other code reads them (the checkout, the enforcement middleware)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Window:
    """A scheduled maintenance window ``[starts_at, ends_at)`` (not cancelled)."""

    id: str
    starts_at: datetime
    ends_at: datetime
    message: str | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveMaintenance:
    """The window in force (the latest-started one, whose message is shown) and the end of
    the unbroken stretch of maintenance it belongs to."""

    window: Window
    until: datetime


@dataclass(frozen=True, slots=True)
class MaintenanceNow:
    """What a client shows: the maintenance in force, if any, and the windows to come."""

    active: ActiveMaintenance | None
    upcoming: list[Window]
