"""Pages of the wallet: the history (``/history``), one entry (``/history/{id}``), a month's
spending chart (``/history/chart``) and the monthly statement files.

The list is the same use case as ``GET /v1/me/transactions``: type and date filters in the
query string (no personal data), twenty entries a page, the API's cursor for the next one.
With JavaScript the next page is fetched as the end of the list scrolls into view (htmx,
``/history/more`` answers just the rows); without it, a plain "More" link loads it. The
chart is drawn here as SVG from :func:`ewallet.history.service.month_spending`, with the
same figures as a table for screen readers; the statements are the API's files, served as
downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ewallet.history import service as history
from ewallet.history.views import (
    HistoryEntry,
    HistoryFilter,
    Month,
    MonthSpending,
    StatementFormat,
)
from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import Locale
from ewallet.kit.pagination import Page
from ewallet.web.kit.auth import WebUser, read_as_user, require_user
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import PAGE_HEADERS, locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE: Final = 20
CHART_PATH: Final = "/history/chart"
# The entry types a customer filters by (the ledger's kinds and ``card_transfer``,
# docs/statements.md); any other kind still shows in the unfiltered list.
TYPES: Final = (
    "topup",
    "payment",
    "transfer",
    "card_transfer",
    "bill",
    "withdrawal",
    "refund",
    "fee",
)

# An entry's name in a list, by type (a transfer by direction, "transfer:in"); a type not
# here shows as it is.
ENTRY_NAMES: Final = {
    "topup": N_("Top-up"),
    "payment": N_("Payment"),
    "transfer:in": N_("Transfer in"),
    "transfer:out": N_("Transfer out"),
    "transfer": N_("Transfer"),
    "card_transfer": N_("Transfer to a bank card"),
    "bill": N_("Bill payment"),
    "withdrawal": N_("Withdrawal"),
    "refund": N_("Refund"),
    "fee": N_("Fee"),
    "reversal": N_("Reversal"),
    "adjustment": N_("Adjustment"),
}

TypeParam = Annotated[str | None, Query(alias="type", max_length=24)]
FromParam = Annotated[str | None, Query(alias="from", max_length=10)]
ToParam = Annotated[str | None, Query(alias="to", max_length=10)]
CursorParam = Annotated[str | None, Query(max_length=200)]
MonthParam = Annotated[str | None, Query(max_length=7)]


@dataclass(frozen=True, slots=True)
class Filters:
    """The list's filters as the query string has them (unknown types and bad dates are
    dropped, a bad date is reported)."""

    type: str | None
    first: date | None
    last: date | None
    bad_date: bool = False

    @classmethod
    def parse(cls, type_: str | None, from_: str | None, to: str | None) -> Filters:
        first, bad_first = _day(from_)
        last, bad_last = _day(to)
        return cls(type_ if type_ in TYPES else None, first, last, bad_first or bad_last)

    def query(self, *, type_: str | None = None, keep_type: bool = True, **more: str) -> str:
        """This filter's query string, with another ``type_`` and extra fields."""
        fields = {
            "type": (self.type if keep_type else type_) or "",
            "from": self.first.isoformat() if self.first else "",
            "to": self.last.isoformat() if self.last else "",
            **more,
        }
        return urlencode({name: value for name, value in fields.items() if value})

    @property
    def dated(self) -> bool:
        return self.first is not None or self.last is not None


def _day(text: str | None) -> tuple[date | None, bool]:
    """A ``YYYY-MM-DD`` field: the date, and whether something unreadable was typed."""
    if not text or not text.strip():
        return None, False
    try:
        return date.fromisoformat(text.strip()), False
    except ValueError:
        return None, True


async def _entries(
    request: Request, services: ServicesDep, filters: Filters, cursor: str | None
) -> tuple[Page[HistoryEntry], str | None, int]:
    """The page of entries, or an empty one and the refusal to show (with its status).

    The entries are read in the transaction that checks the session
    (:func:`ewallet.web.kit.auth.read_as_user`); without a live session, or before a
    refusal is shown, the browser is sent to sign in as ``WebUser`` would."""
    if filters.bad_date:
        await require_user(request, services)
        return Page([], None), _t("Enter dates as YYYY-MM-DD.", locale_of(request)), 422
    if filters.first and filters.last and filters.first > filters.last:
        await require_user(request, services)
        message = _t("The start date is after the end date.", locale_of(request))
        return Page([], None), message, 422
    try:
        flt = HistoryFilter.of_days(filters.type, first=filters.first, last=filters.last)
        read = history.transactions_read(flt=flt, limit=PAGE_SIZE, cursor=cursor)
        _user, listing = await read_as_user(request, services, read)
    except DomainError as error:
        await require_user(request, services)  # no query if the read checked it already
        return Page([], None), refusal(request, error), error.status
    return listing, None, 200


@router.get("/history")
async def history_page(
    request: Request,
    services: ServicesDep,
    *,
    type_: TypeParam = None,
    from_: FromParam = None,
    to: ToParam = None,
    cursor: CursorParam = None,
) -> Response:
    filters = Filters.parse(type_, from_, to)
    listing, error, status = await _entries(request, services, filters, cursor)
    chips = [("", filters.query(keep_type=False))] + [
        (kind, filters.query(type_=kind, keep_type=False)) for kind in TYPES
    ]
    return await page(
        request,
        services,
        "wallet/history/list.html",
        status_code=status,
        error=error,
        filters=filters,
        chips=chips,
        entries=listing.items,
        entry_names=entry_names(locale_of(request)),
        more=_more(filters, listing.next_cursor),
        paged=cursor is not None,
    )


@router.get("/history/more")
async def history_more(
    request: Request,
    services: ServicesDep,
    *,
    type_: TypeParam = None,
    from_: FromParam = None,
    to: ToParam = None,
    cursor: CursorParam = None,
) -> Response:
    """The next page's rows and the next "More" (the infinite scroll's fragment, for htmx;
    a browser that opens it goes to the page itself)."""
    filters = Filters.parse(type_, from_, to)
    if request.headers.get("hx-request") != "true":
        await require_user(request, services)
        query = filters.query(cursor=cursor or "")
        return see_other(f"/history?{query}" if query else "/history")
    listing, _error, status = await _entries(request, services, filters, cursor)
    return await page(
        request,
        services,
        "wallet/history/rows.html",
        status_code=status,
        entries=listing.items,
        entry_names=entry_names(locale_of(request)),
        more=_more(filters, listing.next_cursor),
    )


@cache
def entry_names(locale: Locale) -> dict[str, str]:
    """:data:`ENTRY_NAMES` in ``locale``: what a history row (``entries.html``) is called,
    translated once per language rather than once per row."""
    return {key: _t(text, locale) for key, text in ENTRY_NAMES.items()}


def _more(filters: Filters, cursor: str | None) -> str | None:
    return None if cursor is None else filters.query(cursor=cursor)


@router.get(CHART_PATH)
async def chart_page(request: Request, services: ServicesDep, month: MonthParam = None) -> Response:
    try:
        chosen = Month.parse(month) if month else None
    except DomainError:
        await require_user(request, services)  # signed out: to sign in, not the refusal
        raise
    read = history.month_spending_read(services, month=chosen)
    _user, spending = await read_as_user(request, services, read)
    return await page(
        request,
        services,
        "wallet/history/chart.html",
        spending=spending,
        chart=Chart.of(spending),
        month=str(spending.month),
        previous=str(spending.month.previous()),
        following=str(spending.month.following()),
    )


@router.get("/history/statement.csv")
async def statement_csv(services: ServicesDep, user: WebUser, month: MonthParam = None) -> Response:
    return await _statement(services, user, month, "csv")


@router.get("/history/statement.pdf")
async def statement_pdf(services: ServicesDep, user: WebUser, month: MonthParam = None) -> Response:
    return await _statement(services, user, month, "pdf")


async def _statement(
    services: ServicesDep, user: WebUser, month: str | None, file_format: StatementFormat
) -> Response:
    """The month's statement as a download (``validation_error`` for a month that is not
    ``YYYY-MM``: the refusal page; no month: the monthly summary, where one is chosen)."""
    if not month:
        return see_other(CHART_PATH)
    document = await history.statement_file(
        services, user.user_id, month=Month.parse(month), file_format=file_format
    )
    headers = {
        **PAGE_HEADERS,
        "Content-Disposition": f'attachment; filename="{document.filename}"',
    }
    return Response(document.content, media_type=document.media_type, headers=headers)


@router.get("/history/{entry_id}")
async def entry_page(
    request: Request, services: ServicesDep, entry_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """One entry of the user's own history; anyone else's id is ``not_found`` (404)."""
    read = history.transaction_read(entry_id=entry_id)
    _user, entry = await read_as_user(request, services, read)
    return await page(request, services, "wallet/history/detail.html", entry=entry)


# ------------------------------------------------------------------------------- the chart

CHART_WIDTH: Final = 320
CHART_TOP: Final = 18
CHART_BOTTOM: Final = 150


@dataclass(frozen=True, slots=True)
class Bar:
    day: date
    minor: int
    x: float
    y: float
    width: float
    height: float
    label: bool  # the day's number is written under it


@dataclass(frozen=True, slots=True)
class Share:
    type: str
    minor: int
    percent: int


@dataclass(frozen=True, slots=True)
class Chart:
    """The month's money out drawn as one bar a day (SVG units) and each type's share."""

    bars: list[Bar]
    top_minor: int  # the value of the chart's top line
    busiest: Bar | None
    shares: list[Share]
    active_days: list[Bar]

    @classmethod
    def of(cls, spending: MonthSpending) -> Chart:
        values = [day.money_out.minor for day in spending.days]
        top = _round_up(max(values, default=0))
        slot = CHART_WIDTH / max(len(values), 1)
        span = CHART_BOTTOM - CHART_TOP
        bars = []
        for index, (day, minor) in enumerate(zip(spending.days, values, strict=True)):
            height = round(span * minor / top, 1) if top else 0.0
            if minor and height < 1.5:
                height = 1.5  # a small amount still shows
            bars.append(
                Bar(
                    day=day.day,
                    minor=minor,
                    x=round(index * slot + slot * 0.15, 1),
                    y=round(CHART_BOTTOM - height, 1),
                    width=round(slot * 0.7, 1),
                    height=height,
                    label=day.day.day in (1, 8, 15, 22, 29),
                )
            )
        spent = [bar for bar in bars if bar.minor]
        busiest = max(spent, key=lambda bar: bar.minor, default=None)
        total = spending.total_out.minor
        shares = [
            Share(kind, money.minor, round(100 * money.minor / total) if total else 0)
            for kind, money in spending.out_by_type
        ]
        return cls(bars, top, busiest, shares, spent)


def _round_up(minor: int) -> int:
    """A round value at or above ``minor`` for the chart's top line (1, 2 or 5 x 10^n yuan)."""
    if minor <= 0:
        return 0
    step = 100
    while True:
        for factor in (1, 2, 5):
            if step * factor >= minor:
                return step * factor
        step *= 10
