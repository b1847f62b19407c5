"""Console pages: the risk decisions and the rules' hits -- what the rule engine decided,
why, and how often each rule fires.

- ``/console/risk/decisions``: decisions newest first, by customer id and verdict (50 a
  page, cursor paging);
- ``/console/risk/decisions/{id}``: one decision explained -- the movement, the verdict,
  the rule-set version, the features the rules read, every rule that fired (or failed) with
  its condition and the values it saw, and a run-time error if one made it fail closed;
- ``/console/risk/hits``: hits per rule and Beijing day over a range of days (the last 7
  by default), live and shadow rules alike: the table a risk officer reads before turning a
  shadow rule live or after changing a threshold.

Risk officers and admins (``RISK_RULES``), over ``risk.rules.service.list_decisions``,
``get_decision`` and ``rule_hits``: the staff API's use cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.models.risk import Verdict
from ewallet.risk.limits import CHINA_TIME
from ewallet.risk.rules import service
from ewallet.risk.rules.views import HitCount
from ewallet.staff.permissions import ACCOUNT_GUARD
from ewallet.web.console.pages import console_page
from ewallet.web.console.risk_rules import ACTION_LABELS, MODE_LABELS, RiskOfficer
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

DECISIONS: Final = "console/risk/decisions.html"
DECISION: Final = "console/risk/decision.html"
HITS: Final = "console/risk/hits.html"
PAGE_SIZE: Final = 50
DEFAULT_DAYS: Final = 7
# Up to a month the hits are a grid (a column a day); a longer range lists day by day.
GRID_DAYS: Final = 31
VERDICT_LABELS: Final = {
    Verdict.ALLOW.value: N_("Allowed"),
    Verdict.CHALLENGE.value: N_("Challenged"),
    Verdict.REVIEW.value: N_("To review"),
    Verdict.BLOCK.value: N_("Blocked"),
}
VERDICT_TONES: Final = {"allow": "ok", "challenge": "info", "review": "warn", "block": "bad"}
RANGE_REFUSAL: Final = N_(
    "Choose a range of at most 366 days whose first day is not after its last."
)


def _query(values: dict[str, str]) -> str:
    return urlencode({name: value for name, value in values.items() if value})


@router.get("/risk/decisions")
async def decisions_page(
    *,
    request: Request,
    staff: RiskOfficer,
    services: ServicesDep,
    user_id: Annotated[str, Query(max_length=32)] = "",
    verdict: Annotated[str, Query(max_length=16)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    user_id = user_id.strip()
    chosen = Verdict(verdict) if verdict in VERDICT_LABELS else None
    error = None
    try:
        page = await service.list_decisions(
            services,
            user_id=user_id or None,
            verdict=chosen,
            cursor=cursor or None,
            limit=PAGE_SIZE,
        )
    except DomainError as refused:  # a cursor typed by hand
        error = refusal(request, refused)
        page = await service.list_decisions(
            services, user_id=user_id or None, verdict=chosen, cursor=None, limit=PAGE_SIZE
        )
    typed = {"user_id": user_id, "verdict": chosen.value if chosen else ""}
    return await console_page(
        request,
        services,
        DECISIONS,
        status_code=422 if error else 200,
        error=error,
        decisions=page.items,
        typed=typed,
        filtered=any(typed.values()),
        first_page=not cursor,
        newest_url="/console/risk/decisions" + (f"?{_query(typed)}" if any(typed.values()) else ""),
        next_url=f"/console/risk/decisions?{_query({**typed, 'cursor': page.next_cursor})}"
        if page.next_cursor
        else None,
        verdict_labels=VERDICT_LABELS,
        verdict_tones=VERDICT_TONES,
    )


# Stored decisions keep numbers as text ("6000.00", "0E-8"): the catalogue says which
# features are numbers, so they are shown as numbers and text features in quotes.
NUMBER_FEATURES: Final = frozenset(f.name for f in service.features() if f.type == "number")


def shown(value: Any, name: str = "") -> str:
    """A feature's value as the condition language writes it (null, true, 12.50, 'text')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and name not in NUMBER_FEATURES:
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if "e" in text.lower():  # an exponent: 0E-8 is 0, 2.5E+3 is 2500
        try:
            return format(Decimal(text).normalize(), "f")
        except InvalidOperation:
            return text
    return text


@router.get("/risk/decisions/{decision_id}")
async def decision_page(
    request: Request,
    decision_id: Annotated[str, Path(min_length=1, max_length=32)],
    staff: RiskOfficer,
    services: ServicesDep,
) -> Response:
    decision = await service.get_decision(services, decision_id=decision_id)
    return await console_page(
        request,
        services,
        DECISION,
        decision=decision,
        features=sorted(decision.features.items()),
        shown=shown,
        may_open_customer=ACCOUNT_GUARD.allows(staff.role),
        verdict_labels=VERDICT_LABELS,
        verdict_tones=VERDICT_TONES,
        action_labels=ACTION_LABELS,
        mode_labels=MODE_LABELS,
    )


# ------------------------------------------------------------------------------ hits


@dataclass(slots=True)
class HitRow:
    """One rule of one version in one mode and action: its hits by day and in all."""

    rule_name: str
    version: int
    mode: str
    action: str
    by_day: dict[date, int] = field(default_factory=dict)
    total: int = 0


def hit_rows(counts: list[HitCount]) -> list[HitRow]:
    """The counts grouped by rule (then version, mode, action), most hits first."""
    rows: dict[tuple[str, int, str, str], HitRow] = {}
    for count in counts:
        key = (count.rule_name, count.rule_set_version, count.mode.value, count.action.value)
        row = rows.get(key)
        if row is None:
            row = rows[key] = HitRow(*key)
        row.by_day[count.day] = row.by_day.get(count.day, 0) + count.hits
        row.total += count.hits
    return sorted(rows.values(), key=lambda row: (-row.total, row.rule_name, -row.version))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _today(now: datetime) -> date:
    return now.astimezone(CHINA_TIME).date()


@router.get("/risk/hits")
async def hits_page(
    request: Request,
    staff: RiskOfficer,
    services: ServicesDep,
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    today = _today(services.clock.now())
    try:
        last_day = date.fromisoformat(last) if last else today
        first_day = (
            date.fromisoformat(first) if first else last_day - timedelta(days=DEFAULT_DAYS - 1)
        )
        counts = await service.rule_hits(services, first=first_day, last=last_day)
    except (DomainError, ValueError) as error:
        return await console_page(
            request,
            services,
            HITS,
            status_code=getattr(error, "status", 422),
            error=_t(RANGE_REFUSAL, locale_of(request)),
            rows=[],
            days=[],
            grid=False,
            first=first,
            last=last,
            counts=[],
        )
    days = _days(first_day, last_day)
    return await console_page(
        request,
        services,
        HITS,
        rows=hit_rows(counts),
        days=days,
        grid=len(days) <= GRID_DAYS,
        counts=sorted(counts, key=lambda c: (c.day, c.rule_name, c.rule_set_version)),
        first=first_day.isoformat(),
        last=last_day.isoformat(),
        action_labels=ACTION_LABELS,
        mode_labels=MODE_LABELS,
    )
