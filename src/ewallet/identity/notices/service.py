"""The signed-in user's notices: read them (newest first, in their language), count the
unread ones, mark them read."""

from __future__ import annotations

from datetime import datetime

from ewallet.identity.notices import repository as repo
from ewallet.identity.notices.views import NoticeView
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.i18n import Locale
from ewallet.kit.pagination import Page, decode_cursor, encode_cursor
from ewallet.notify.templates import render
from ewallet.services import Services


async def list_notifications(
    services: Services, *, user_id: str, locale: Locale, limit: int, cursor: str | None
) -> Page[NoticeView]:
    """``GET /v1/me/notifications``: the user's notices, newest first, rendered in
    ``locale``, ``limit`` a page. Refusal: ``validation_error`` (a malformed cursor)."""
    before = None
    if cursor is not None:
        position = decode_cursor(cursor)
        try:
            before = datetime.fromisoformat(str(position["t"])), str(position["id"])
        except (KeyError, ValueError):
            raise ValidationFailedError("malformed cursor") from None

    async def work(uow: UnitOfWork) -> list[NoticeView]:
        rows = await repo.newest_notices(
            await uow.connection(), user_id=user_id, before=before, limit=limit + 1
        )
        views = []
        for row in rows:
            title, body = render(row.kind, row.params, locale)
            views.append(
                NoticeView(
                    row.id,
                    row.kind,
                    title,
                    body,
                    row.created_at,
                    row.read_at is not None,
                    row.is_security,
                )
            )
        return views

    views = await run_unit(services.engine, work, read_only=True)
    next_cursor = None
    if len(views) > limit:
        views = views[:limit]
        last = views[-1]
        next_cursor = encode_cursor({"t": last.created_at.isoformat(), "id": last.id})
    return Page(items=views, next_cursor=next_cursor)


async def mark_notification_read(services: Services, *, user_id: str, notification_id: str) -> None:
    """``POST /v1/me/notifications/{id}/read``: mark one of the user's notices read (again:
    no change). Refusal: ``not_found`` for anyone else's notice, as for an unknown id."""

    async def work(uow: UnitOfWork) -> None:
        if not await repo.mark_read(
            await uow.connection(),
            user_id=user_id,
            notification_id=notification_id,
            now=services.clock.now(),
        ):
            raise NotFoundError("no such notification")

    await run_unit(services.engine, work)


async def unread_count(services: Services, *, user_id: str) -> int:
    """How many of the user's notices are unread (the badge on the wallet's home). Reads
    only; an unknown user has none."""

    async def work(uow: UnitOfWork) -> int:
        return await unread_in(uow, user_id=user_id)

    return await run_unit(services.engine, work, read_only=True)


async def unread_in(uow: UnitOfWork, *, user_id: str) -> int:
    """:func:`unread_count` inside the caller's unit of work (a summary that reads several
    things in one transaction)."""
    return await repo.count_unread(await uow.connection(), user_id=user_id)


async def mark_all_notifications_read(services: Services, *, user_id: str) -> int:
    """Mark every unread notice of the user read at once; how many there were (0: no
    change). Only the user's own notices are touched."""

    async def work(uow: UnitOfWork) -> int:
        return await repo.mark_all_read(
            await uow.connection(), user_id=user_id, now=services.clock.now()
        )

    return await run_unit(services.engine, work)
