"""Console pages: pending money (``/console/pending``) -- top-ups and withdrawals whose
outcome is not final, oldest first, with their age; old ones stand out.

For operators (and admins), over the use case of ``GET /v1/staff/funding/pending``
(:func:`ewallet.ops.health.service.pending_funding`): the customers' phones are masked, and
every look is audited there (``funding.pending_viewed``). Each row links to the customer's
page. docs/operations.md says what each state means and what finishes it.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.i18n import Locale
from ewallet.ops.health import service as health
from ewallet.ops.health.views import FundingKind
from ewallet.web.console.auth import Operator
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

LIST_PATH: Final = "/console/pending"
PAGE_SIZE: Final = 50
KINDS: Final[dict[str, FundingKind]] = {"topup": "topup", "withdrawal": "withdrawal"}
STATES: Final = ("awaiting_payment", "pending", "processing")
# What each kind and state means, for people (docs/operations.md).
STATE_LABELS: Final = {
    ("topup", "awaiting_payment"): N_("Waiting for the customer to pay"),
    ("topup", "pending"): N_("Bank's answer unknown"),
    ("withdrawal", "processing"): N_("Bank being asked"),
    ("withdrawal", "pending"): N_("Bank's answer unknown"),
}
STATE_FILTERS: Final = {
    "awaiting_payment": N_("Waiting for the customer to pay"),
    "pending": N_("Bank's answer unknown"),
    "processing": N_("Bank being asked"),
}
KIND_LABELS: Final = {"topup": N_("Top-up"), "withdrawal": N_("Withdrawal")}
CHANNEL_LABELS: Final = {
    "card": N_("Bank card"),
    "alipay": N_("Alipay"),
    "wechat_pay": N_("WeChat Pay"),
}
HELD_LABELS: Final = {
    "suspense": N_("In suspense"),
    "wallet_hold": N_("Held in the wallet"),
}


def age_text(seconds: int, locale: Locale) -> str:
    """A short, readable age: ``45 min``, ``2 h 5 min``, ``3 d 4 h``."""
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 1:
        return _t("under a minute", locale)
    if hours < 1:
        return _t("%(minutes)s min", locale) % {"minutes": minutes}
    if days < 1:
        return _t("%(hours)s h %(minutes)s min", locale) % {
            "hours": hours,
            "minutes": minutes % 60,
        }
    return _t("%(days)s d %(hours)s h", locale) % {"days": days, "hours": hours % 24}


@router.get("/pending")
async def pending_page(
    *,
    request: Request,
    staff: Operator,
    services: ServicesDep,
    kind: str = "",
    state: str = "",
    cursor: str | None = None,
) -> Response:
    """Unfinished top-ups and withdrawals, oldest first, of a kind and state if chosen."""
    wanted_kind = KINDS.get(kind)
    wanted_state = state if state in STATES else None
    report = await health.pending_funding(
        services,
        staff,
        kind=wanted_kind,
        state=wanted_state,
        limit=PAGE_SIZE,
        cursor=cursor or None,
    )
    next_url = None
    if report.next_cursor is not None:
        query = {"kind": wanted_kind or "", "state": wanted_state or ""}
        query = {name: value for name, value in query.items() if value}
        next_url = f"{LIST_PATH}?" + urlencode({**query, "cursor": report.next_cursor})
    locale = locale_of(request)
    return await console_page(
        request,
        services,
        "console/pending/list.html",
        report=report,
        kind=wanted_kind or "",
        state=wanted_state or "",
        next_url=next_url,
        first_page=cursor is None,
        age=lambda seconds: age_text(seconds, locale),
        state_labels=STATE_LABELS,
        state_filters=STATE_FILTERS,
        kind_labels=KIND_LABELS,
        channel_labels=CHANNEL_LABELS,
        held_labels=HELD_LABELS,
    )
