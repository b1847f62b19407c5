"""``/v1/me/transactions`` and ``/v1/me/statements/{yyyy-mm}`` (the caller's own only)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from ewallet.history import service
from ewallet.history.schemas import TransactionDetailOut, TransactionOut, TransactionPage
from ewallet.history.views import HistoryFilter, Month
from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.risk.limits import CHINA_TIME

router = APIRouter(prefix="/v1/me", tags=["history"])


def _moment(value: str | None, *, name: str, end: bool) -> datetime | None:
    """RFC 3339, or a date meaning that whole Asia/Shanghai day (``to`` includes it)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), time(), tzinfo=CHINA_TIME)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailedError(f"'{name}' must be a date or an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValidationFailedError(f"'{name}' needs a UTC offset (RFC 3339)")
    return moment


@router.get("/transactions", summary="The caller's wallet history, newest first")
async def get_transactions(
    user: CurrentUser,
    services: ServicesDep,
    *,
    type_: Annotated[
        str | None,
        Query(
            alias="type",
            max_length=24,
            description="An entry type (card_transfer: transfers to another person's card)",
        ),
    ] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: int = DEFAULT_LIMIT,
) -> TransactionPage:
    flt = HistoryFilter(
        type=type_,
        since=_moment(from_, name="from", end=False),
        until=_moment(to, name="to", end=True),
    )
    page = await service.list_transactions(
        services, user.user_id, flt=flt, limit=limit, cursor=cursor
    )
    return TransactionPage(
        items=[TransactionOut.of(entry) for entry in page.items], next_cursor=page.next_cursor
    )


@router.get("/transactions/{entry_id}", summary="One entry of the caller's wallet history")
async def get_one_transaction(
    entry_id: str, user: CurrentUser, services: ServicesDep
) -> TransactionDetailOut:
    entry = await service.get_transaction(services, user.user_id, entry_id=entry_id)
    return TransactionDetailOut.detail(entry)


@router.get(
    "/statements/{month}",
    summary="The caller's monthly statement (Asia/Shanghai month) as CSV or PDF",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}},
)
async def get_statement(
    month: str,
    user: CurrentUser,
    services: ServicesDep,
    format_: Annotated[Literal["csv", "pdf"], Query(alias="format")] = "csv",
) -> Response:
    parsed = Month.parse(month)
    document = await service.statement_file(
        services, user.user_id, month=parsed, file_format=format_
    )
    headers = {"Content-Disposition": f'attachment; filename="{document.filename}"'}
    return Response(document.content, media_type=document.media_type, headers=headers)
