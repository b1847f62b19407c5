"""Pages of the wallet: notifications (``/notifications``) -- the notices of
``GET /v1/me/notifications`` in the reader's language, newest first, and marking them read
(one, as ``POST /v1/me/notifications/{id}/read`` does, or all at once).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.notices import service as notices
from ewallet.web.kit.auth import WebUser
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import locale_of, page, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE: Final = 20
LIST_PATH: Final = "/notifications"


@router.get(LIST_PATH)
async def notifications_page(
    request: Request,
    services: ServicesDep,
    user: WebUser,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    listing = await notices.list_notifications(
        services, user_id=user.user_id, locale=locale_of(request), limit=PAGE_SIZE, cursor=cursor
    )
    return await page(
        request,
        services,
        "wallet/notifications/list.html",
        notices=listing.items,
        next_cursor=listing.next_cursor,
        paged=cursor is not None,
    )


@router.post(f"{LIST_PATH}/read-all")
async def read_all(form: PostedForm, services: ServicesDep, user: WebUser) -> Response:
    await notices.mark_all_notifications_read(services, user_id=user.user_id)
    return see_other(LIST_PATH)


@router.post(LIST_PATH + "/{notification_id}/read")
async def read_one(
    form: PostedForm,
    services: ServicesDep,
    user: WebUser,
    notification_id: Annotated[str, Path(max_length=64)],
) -> Response:
    """Mark one notice read; anyone else's id is ``not_found`` (the 404 page), nothing changed."""
    await notices.mark_notification_read(
        services, user_id=user.user_id, notification_id=notification_id
    )
    return see_other(f"{LIST_PATH}#n-{notification_id}")
