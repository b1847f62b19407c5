"""Computing the features a rule set reads, for one movement (the catalogue says what each
means). Only the ``needed`` names are computed, in one statement; the SQL is in
:mod:`ewallet.risk.rules.features.repository`, the watch-list screening of a transfer's
parties in :mod:`ewallet.risk.rules.features.screening`."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.money import Money
from ewallet.ledger import chart
from ewallet.risk.rules.catalogue import CATALOGUE, Source
from ewallet.risk.rules.features import repository, screening
from ewallet.risk.rules.features.screening import WatchlistKeys
from ewallet.risk.rules.language import Value
from ewallet.risk.watchlist.service import PendingScreening

CHINA: Final = ZoneInfo("Asia/Shanghai")
MAX_STATEMENTS: Final = 256
NEW_DEVICE: Final = timedelta(hours=24)
COUNTERPARTY_TYPES: Final = {
    "transfer": "user",
    "payment": "merchant",
    "payment_code": "merchant",
    "static_qr": "merchant",
    "bill": "biller",
}
_HOUR: Final = Decimal(3600)
_DAY: Final = Decimal(86400)


@dataclass(frozen=True, slots=True)
class SeenDevice:
    """A device the caller looked up already (a sign-in): when the user first used it, None
    when it is not theirs. The device features then cost no statement."""

    first_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class Movement:
    """What the engine knows of one movement before it reads anything."""

    user_id: str
    event: str  # a SpendChannel value, or "sign_in", "card_topup", ...
    reference: str
    amount: Money | None
    counterparty: str | None = None
    auth: str | None = None
    device_id: str | None = None
    seen_device: SeenDevice | None = None  # instead of device_id: read by the caller
    # From the spender's row, which the seam holds locked already.
    account_tier: int | None = None
    account_created_at: datetime | None = None
    pin_failures: int | None = None
    login_failures: int | None = None

    @property
    def currency(self) -> str:
        return self.amount.currency if self.amount is not None else "CNY"


def _seconds(span: timedelta) -> Decimal:
    return Decimal(span.days * 86400 + span.seconds) + Decimal(span.microseconds) / 1_000_000


def _hours(now: datetime, then: datetime | None) -> Decimal | None:
    """Hours since ``then``, rounded down to a microhour (so 24 h less a second is < 24)."""
    if then is None:
        return None
    return (_seconds(now - then) / _HOUR).quantize(Decimal("0.000001"), rounding=ROUND_FLOOR)


def _days(now: datetime, then: datetime | None) -> Decimal | None:
    if then is None:
        return None
    return (_seconds(now - then) / _DAY).quantize(Decimal("0.00000001"), rounding=ROUND_FLOOR)


def percentile_90(amounts: list[int]) -> Decimal | None:
    """The nearest-rank 90th percentile of minor ``amounts``, in yuan."""
    if not amounts:
        return None
    ordered = sorted(amounts)
    return repository.yuan(ordered[math.ceil(0.9 * len(ordered)) - 1])


def free_values(movement: Movement, needed: Collection[str], *, now: datetime) -> dict[str, Value]:
    """The ``needed`` features that cost no statement: the movement's and the account's
    (the spender's row is locked and loaded already)."""
    sources = {CATALOGUE[name].source for name in needed if name in CATALOGUE}
    values: dict[str, Value] = {}
    if Source.MOVEMENT in sources:
        values.update(
            amount=None if movement.amount is None else movement.amount.to_decimal(),
            channel=movement.event,
            counterparty_type=COUNTERPARTY_TYPES.get(movement.event),
            auth=movement.auth,
            hour_of_day=now.astimezone(CHINA).hour,
        )
    if Source.ACCOUNT in sources:
        created = movement.account_created_at
        values.update(
            account_tier=movement.account_tier,
            account_age_days=None if created is None else (now - created).days,
            pin_failures=movement.pin_failures,
            login_failures=movement.login_failures,
        )
    if Source.DEVICE in sources and movement.seen_device is not None:
        values.update(_device(movement.seen_device.first_seen_at, now))
    return {name: value for name, value in values.items() if name in needed}


def _device(first_seen: datetime | None, now: datetime) -> dict[str, Value]:
    return {
        "device_age_hours": _hours(now, first_seen),
        "is_new_device": first_seen is None or now - first_seen < NEW_DEVICE,
    }


@dataclass(frozen=True, slots=True)
class Computed:
    """The features' values, and the watch-list screenings to store with the decision."""

    values: dict[str, Value]
    screenings: tuple[PendingScreening, ...] = ()


async def compute(
    conn: AsyncConnection,
    movement: Movement,
    needed: Collection[str],
    *,
    now: datetime,
    large_cash_threshold_minor: int,
    watchlist: WatchlistKeys | None = None,
) -> Computed:
    """The values of ``needed`` for ``movement`` at ``now`` (unknown names are skipped):
    the movement's and the account's at no cost, everything read from the database in one
    statement (:class:`~ewallet.risk.rules.features.repository.FeatureRead`), and the usual amount
    (500 rows at most) in a second one only when a rule reads it. The watch-list features
    match in memory what that statement read (:mod:`.screening`)."""
    sources = {CATALOGUE[name].source for name in needed if name in CATALOGUE}
    values = free_values(movement, needed, now=now)
    screened = (
        screening.parties(movement.event, movement.counterparty, needed)
        if watchlist is not None
        else ()
    )
    statement = _statement(
        frozenset(needed),
        with_counterparty=movement.counterparty is not None,
        with_device=movement.device_id is not None and movement.seen_device is None,
        parties=screened,
    )
    row: dict[str, Any] = {}
    if statement is not None:
        params = repository.feature_params(
            user_id=movement.user_id,
            reference=movement.reference,
            channel=movement.event,
            counterparty=movement.counterparty,
            device_id=movement.device_id,
            wallet_code=chart.wallet(movement.user_id, movement.currency).code,
            now=now,
            near_threshold=(
                math.ceil(large_cash_threshold_minor * 0.9),
                large_cash_threshold_minor,
            ),
        )
        row = await repository.read_features(conn, statement, params)
    values.update(_interpret(row, movement, sources, now))
    screenings: tuple[PendingScreening, ...] = ()
    if Source.WATCHLIST in sources:
        values.update(payee_on_watchlist=None, payer_on_watchlist=None)
        if watchlist is not None and screened:
            screenings = await screening.screen(
                conn,
                user_id=movement.user_id,
                counterparty=movement.counterparty,
                row=row,
                screened=screened,
                keys=watchlist,
                now=now,
            )
            for pending in screenings:
                values[f"{pending.party}_on_watchlist"] = pending.matched
    if Source.USUAL_AMOUNT in sources:
        amounts = await repository.recent_amounts(
            conn,
            user_id=movement.user_id,
            reference=movement.reference,
            since=now - timedelta(days=30),
        )
        values["usual_amount_p90_30d"] = percentile_90(amounts)
    return Computed({name: values.get(name) for name in needed if name in CATALOGUE}, screenings)


_STATEMENTS: dict[tuple[frozenset[str], bool, bool, tuple[str, ...]], Select[Any] | None] = {}


def _statement(
    needed: frozenset[str],
    *,
    with_counterparty: bool,
    with_device: bool,
    parties: tuple[str, ...] = (),
) -> Select[Any] | None:
    """The one statement that reads ``needed`` (built once per feature set, then reused)."""
    key = (needed, with_counterparty, with_device, parties)
    if key in _STATEMENTS:
        return _STATEMENTS[key]
    sources = {CATALOGUE[name].source for name in needed if name in CATALOGUE}
    read = repository.FeatureRead()
    if Source.SECURITY in sources:
        repository.security_events(read)
    if Source.CARDS in sources:
        repository.latest_card_bound(read)
    if Source.DEVICE in sources and with_device:
        repository.device_first_seen(read)
    if Source.USER_SPENDS in sources:
        repository.user_spends(read, needed=needed, with_counterparty=with_counterparty)
    if Source.PAYEE_SPENDS in sources and with_counterparty:
        repository.payee_spends(read)
    if Source.INFLOW in sources:
        repository.inflow(read)
    if Source.TOPUPS in sources:
        repository.failed_card_topups(read)
    if Source.COUNTER in sources:
        repository.counter_deposits_near_threshold(read)
    if parties:
        repository.watchlist_parties(read, parties=parties)
    if len(_STATEMENTS) >= MAX_STATEMENTS:
        _STATEMENTS.clear()  # rule sets come and go; the live ones rebuild theirs once
    _STATEMENTS[key] = statement = read.statement()
    return statement


def _interpret(
    row: dict[str, Any], movement: Movement, sources: set[Source], now: datetime
) -> dict[str, Value]:
    """The feature values of the one statement's row (times to hours, fen to yuan)."""
    values: dict[str, Value] = {}
    if Source.SECURITY in sources:
        values["hours_since_password_reset"] = _hours(
            now, repository.parse_time(row["password_reset_at"])
        )
        values["hours_since_pin_reset"] = _hours(now, repository.parse_time(row["pin_reset_at"]))
    if Source.CARDS in sources:
        values["hours_since_card_bound"] = _hours(now, repository.parse_time(row["card_bound_at"]))
    if "device_first_seen" in row:
        values.update(_device(repository.parse_time(row["device_first_seen"]), now))
    if "inflow_minor" in row:
        values["inflow_sum_30m"] = repository.yuan(row["inflow_minor"])
    for name, raw in row.items():
        if name == "last_spend_at":
            values["days_since_last_spend"] = _days(now, repository.parse_time(raw))
        elif name == "paid_before":
            values["is_new_payee"] = int(raw or 0) == 0
        elif name.startswith(("user_", "payee_")):
            values[name] = repository.yuan(raw) if "_sum_" in name else int(raw or 0)
        elif name in ("failed_card_topups_1h", "counter_deposits_near_threshold_7d"):
            values[name] = int(raw or 0)
    return values
