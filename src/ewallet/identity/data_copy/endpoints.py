"""``POST``/``GET /v1/me/data-copies`` and ``GET /v1/me/data-copies/{id}/download``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.data_copy import service
from ewallet.identity.data_copy.schemas import DataCopyListOut, DataCopyOut
from ewallet.identity.deps import CurrentUser, user_actor

router = APIRouter(prefix="/v1", tags=["account security"])


@router.post("/me/data-copies", status_code=202, summary="Ask for a copy of my data")
async def post_data_copy(request: Request, user: CurrentUser, services: ServicesDep) -> DataCopyOut:
    view = await service.request_data_copy(
        services, user_id=user.user_id, actor=user_actor(request, user)
    )
    return DataCopyOut.of(view)


@router.get("/me/data-copies", summary="My copies, newest first")
async def get_data_copies(user: CurrentUser, services: ServicesDep) -> DataCopyListOut:
    views = await service.list_data_copies(services, user_id=user.user_id)
    return DataCopyListOut(items=[DataCopyOut.of(view) for view in views])


@router.get("/me/data-copies/{copy_id}/download", summary="Download a copy as JSON or PDF")
async def download_data_copy(
    copy_id: str,
    user: CurrentUser,
    services: ServicesDep,
    fmt: Annotated[service.CopyFormat, Query(alias="format")] = "json",
) -> Response:
    download = await service.download_data_copy(
        services, user_id=user.user_id, copy_id=copy_id, fmt=fmt
    )
    return Response(
        content=download.content,
        media_type=download.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": "no-store",
        },
    )
