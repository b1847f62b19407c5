"""Response bodies of ``/v1/me/notifications``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ewallet.identity.notices.views import NoticeView


class NotificationOut(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    created_at: datetime
    read: bool
    security: bool

    @classmethod
    def of(cls, view: NoticeView) -> NotificationOut:
        return cls(
            id=view.id,
            kind=view.kind,
            title=view.title,
            body=view.body,
            created_at=view.created_at,
            read=view.read,
            security=view.security,
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
