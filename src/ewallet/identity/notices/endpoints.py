"""``GET /v1/me/notifications`` and ``POST /v1/me/notifications/{id}/read``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from ewallet.http.deps import LocaleDep, ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.identity.notices import service
from ewallet.identity.notices.schemas import NotificationOut, NotificationPage
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["account security"])


@router.get("/me/notifications", summary="Notices, newest first")
async def get_notifications(
    user: CurrentUser,
    services: ServicesDep,
    locale: LocaleDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> NotificationPage:
    page = await service.list_notifications(
        services, user_id=user.user_id, locale=locale, limit=limit, cursor=cursor
    )
    items = [NotificationOut.of(view) for view in page.items]
    return NotificationPage(items=items, next_cursor=page.next_cursor)


@router.post(
    "/me/notifications/{notification_id}/read", status_code=204, summary="Mark a notice read"
)
async def post_notification_read(
    notification_id: Annotated[str, Path(max_length=64)],
    user: CurrentUser,
    services: ServicesDep,
) -> Response:
    await service.mark_notification_read(
        services, user_id=user.user_id, notification_id=notification_id
    )
    return Response(status_code=204)
