"""The features' reads: one statement per decision, built from the parts its rules need.

Functions take the caller's connection and never commit. The reads run inside the
spend's unit, under the spender's row lock, so one user's velocity is read after their
previous spend committed (two processes cannot both miss each other's spend).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Select, and_, bindparam, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import as_utc
from ewallet.models.funding import CardStatus, TopupMethod, TopupStatus
from ewallet.models.tables import (
    audit_events,
    cards,
    counter_deposits,
    devices,
    ledger_accounts,
    ledger_postings,
    spend_records,
    topups,
    users,
    watchlist_loads,
)

PASSWORD_RESET = "login_password.reset"  # noqa: S105 (an audit action)
PIN_RESET = "payment_password.reset"
INFLOW_POSTINGS = 200  # the wallet's latest postings read for inflow_sum_30m
USUAL_SPENDS = 500  # the latest spends read for usual_amount_p90_30d


def yuan(minor: Any) -> Decimal:
    return Decimal(int(minor or 0)) / 100


def _summed(value: Any, condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


class FeatureRead:
    """The features of one movement as ONE statement: one-row aggregates (the spender's and
    the payee's spends) joined side by side, and scalar subqueries for the rest. Each part
    is added only when a rule reads one of its features. The statement has bound
    parameters only (``user_id``, ``reference``, ``since_1h`` ...: :func:`feature_params`),
    so it is built once per set of features and reused: building a statement costs more
    than running it."""

    def __init__(self) -> None:
        self._rows: list[Any] = []
        self._scalars: list[Any] = []

    def row(self, statement: Select[Any]) -> None:
        self._rows.append(statement.subquery())

    def scalar(self, name: str, statement: Select[Any]) -> None:
        self._scalars.append(statement.scalar_subquery().label(name))

    def statement(self) -> Select[Any] | None:
        if not self._rows and not self._scalars:
            return None
        columns = [column for row in self._rows for column in row.c]
        statement = select(*columns, *self._scalars)
        if self._rows:
            joined = self._rows[0]
            for row in self._rows[1:]:
                joined = joined.join(row, true())
            statement = statement.select_from(joined)
        return statement


WINDOWS: Final = {
    "1m": timedelta(minutes=1),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
VELOCITY_WINDOWS: Final = ("1m", "1h", "24h", "30d")


def feature_params(
    *,
    user_id: str,
    reference: str,
    channel: str,
    counterparty: str | None,
    device_id: str | None,
    wallet_code: str,
    now: datetime,
    near_threshold: tuple[int, int],
) -> dict[str, Any]:
    """The values of a :class:`FeatureRead` statement's parameters."""
    return {
        "user_id": user_id,
        "reference": reference,
        "channel": channel,
        "counterparty": counterparty,
        "device_id": device_id,
        "wallet_code": wallet_code,
        "low": near_threshold[0],
        "high": near_threshold[1],
        **{f"since_{suffix}": now - span for suffix, span in WINDOWS.items()},
    }


async def read_features(
    conn: AsyncConnection, statement: Select[Any], params: dict[str, Any]
) -> dict[str, Any]:
    return dict((await conn.execute(statement, params)).one()._mapping)


def user_spends(read: FeatureRead, *, needed: Collection[str], with_counterparty: bool) -> None:
    """The spender's spend velocity (only the ``needed`` columns): counts and minor-unit
    sums per window, every channel and this one, as ``user_*``; ``last_spend_at``;
    ``paid_before`` (the counterparty was paid before)."""
    spends = spend_records.c
    columns: list[Any] = []
    used: list[str] = []  # the windows read; the scan starts at the widest
    for suffix in VELOCITY_WINDOWS:
        wanted = [
            (kind, scope)
            for kind in ("count", "sum")
            for scope in ("user", "user_channel")
            if f"{scope}_{kind}_{suffix}" in needed
        ]
        if not wanted:
            continue
        used.append(suffix)
        in_window = spends.created_at >= bindparam(f"since_{suffix}")
        on_channel = and_(in_window, spends.channel == bindparam("channel"))
        for kind, scope in wanted:
            value = 1 if kind == "count" else spends.amount
            condition = in_window if scope == "user" else on_channel
            columns.append(_summed(value, condition).label(f"{scope}_{kind}_{suffix}"))
    if "user_out_sum_30m" in needed:
        columns.append(
            _summed(spends.amount, spends.created_at >= bindparam("since_30m")).label(
                "user_out_sum_30m"
            )
        )
        used.append("30m")
    if columns:
        widest = max(used, key=WINDOWS.__getitem__)
        read.row(
            select(*columns).where(
                spends.user_id == bindparam("user_id"),
                # No upper bound: a spend committed by another process after this one's
                # clock was read precedes it in the spender's lock order and must count.
                spends.created_at >= bindparam(f"since_{widest}"),
                spends.reference != bindparam("reference"),
                spends.released_at.is_(None),
            )
        )
    if "days_since_last_spend" in needed:
        read.scalar(
            "last_spend_at",
            select(func.max(spends.created_at)).where(
                spends.user_id == bindparam("user_id"), spends.reference != bindparam("reference")
            ),
        )
    if "is_new_payee" in needed and with_counterparty:
        read.scalar(
            "paid_before",
            select(func.count()).select_from(
                select(spends.id)
                .where(
                    spends.user_id == bindparam("user_id"),
                    spends.counterparty == bindparam("counterparty"),
                    spends.reference != bindparam("reference"),
                )
                .limit(1)
                .subquery()
            ),
        )


def payee_spends(read: FeatureRead) -> None:
    """Spends to the counterparty from anyone in the last hour and day, as ``payee_*``."""
    spends = spend_records.c
    hour = spends.created_at >= bindparam("since_1h")
    read.row(
        select(
            _summed(1, hour).label("payee_count_1h"),
            _summed(spends.amount, hour).label("payee_sum_1h"),
            func.count().label("payee_count_24h"),
            func.coalesce(func.sum(spends.amount), 0).label("payee_sum_24h"),
            func.count(spends.user_id.distinct()).label("payee_payers_24h"),
        ).where(
            spends.counterparty == bindparam("counterparty"),
            spends.created_at >= bindparam("since_24h"),
            spends.reference != bindparam("reference"),
            spends.released_at.is_(None),
        )
    )


def security_events(read: FeatureRead) -> None:
    """When the login password and the payment password were last reset (audit events), as
    ``password_reset_at`` and ``pin_reset_at``."""
    for name, action in (("password_reset_at", PASSWORD_RESET), ("pin_reset_at", PIN_RESET)):
        read.scalar(
            name,
            select(func.max(audit_events.c.occurred_at)).where(
                audit_events.c.subject_id == bindparam("user_id"), audit_events.c.action == action
            ),
        )


def parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def latest_card_bound(read: FeatureRead) -> None:
    """``card_bound_at``: when the latest card still bound was bound."""
    read.scalar(
        "card_bound_at",
        select(func.max(cards.c.verified_at)).where(
            cards.c.user_id == bindparam("user_id"), cards.c.status == CardStatus.ACTIVE
        ),
    )


def device_first_seen(read: FeatureRead) -> None:
    """``device_first_seen``: when the user first used the device (null: not theirs)."""
    read.scalar(
        "device_first_seen",
        select(devices.c.first_seen_at).where(
            devices.c.id == bindparam("device_id"), devices.c.user_id == bindparam("user_id")
        ),
    )


def inflow(read: FeatureRead) -> None:
    """``inflow_minor``: minor units credited to the wallet in the last 30 minutes, over its
    latest postings (the ``(account_id, id)`` index walked backwards, at most
    :data:`INFLOW_POSTINGS` rows)."""
    account = (
        select(ledger_accounts.c.id)
        .where(ledger_accounts.c.code == bindparam("wallet_code"))
        .scalar_subquery()
    )
    latest = (
        select(ledger_postings.c.amount, ledger_postings.c.created_at)
        .where(ledger_postings.c.account_id == account)
        .order_by(ledger_postings.c.id.desc())
        .limit(INFLOW_POSTINGS)
        .subquery()
    )
    read.scalar(
        "inflow_minor",
        select(func.coalesce(func.sum(-latest.c.amount), 0)).where(
            latest.c.amount < 0, latest.c.created_at >= bindparam("since_30m")
        ),
    )


def failed_card_topups(read: FeatureRead) -> None:
    read.scalar(
        "failed_card_topups_1h",
        select(func.count()).where(
            topups.c.user_id == bindparam("user_id"),
            topups.c.method == TopupMethod.CARD,
            topups.c.status == TopupStatus.FAILED,
            topups.c.created_at >= bindparam("since_1h"),
        ),
    )


def counter_deposits_near_threshold(read: FeatureRead) -> None:
    """``counter_deposits_near_threshold_7d``: the user's counter deposits in 7 days of at
    least ``low`` and below ``high``."""
    read.scalar(
        "counter_deposits_near_threshold_7d",
        select(func.count()).where(
            counter_deposits.c.user_id == bindparam("user_id"),
            counter_deposits.c.created_at >= bindparam("since_7d"),
            counter_deposits.c.amount >= bindparam("low"),
            counter_deposits.c.amount < bindparam("high"),
        ),
    )


async def recent_amounts(
    conn: AsyncConnection, *, user_id: str, reference: str, since: datetime
) -> list[int]:
    """The minor amounts of the spender's latest spends since ``since`` (at most 500)."""
    statement = (
        select(spend_records.c.amount)
        .where(
            spend_records.c.user_id == user_id,
            spend_records.c.created_at >= since,
            spend_records.c.reference != reference,
            spend_records.c.released_at.is_(None),
        )
        .order_by(spend_records.c.created_at.desc())
        .limit(USUAL_SPENDS)
    )
    return [int(amount) for amount in (await conn.execute(statement)).scalars()]


# The verified identity columns a watch-list screening decrypts, per party.
IDENTITY_COLUMNS: Final = ("real_name_encrypted", "id_number_encrypted", "id_number_digest")


def watchlist_parties(read: FeatureRead, *, parties: Collection[str]) -> None:
    """``watchlist_version`` (the list's, as :mod:`ewallet.risk.watchlist` numbers it) and,
    per party (``payee``: the ``counterparty`` parameter, ``payer``: ``user_id``), the
    verified identity's encrypted name and ID number and the ID number's digest, as
    ``watchlist_<party>_real_name_encrypted`` ...: null when the party has not verified a
    real name.
    Primary-key look-ups, so a screening adds no statement to the decision's one."""
    read.scalar("watchlist_version", select(func.max(watchlist_loads.c.version)))
    for party in parties:
        who: Any = bindparam("counterparty" if party == "payee" else "user_id")
        for column in IDENTITY_COLUMNS:
            read.scalar(
                f"watchlist_{party}_{column}",
                select(users.c[column]).where(
                    users.c.id == who, users.c.identity_verified_at.is_not(None)
                ),
            )
