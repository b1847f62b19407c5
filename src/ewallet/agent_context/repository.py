"""What the agent's customer view reads that no other feature's views offer: the customer
row, their recent tickets, chats and call-backs, cards, top-ups and withdrawals in flight,
notices, devices and the audit events about their account; and what a customer search
matches on (phone, ticket, chat). Core statements only (no ORM session: the view is read
on every look, and each is a handful of indexed reads); rows come back as plain views;
nothing commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Select,
    String,
    bindparam,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.agent_context.views import CardBrief, DeviceBrief, TicketBrief
from ewallet.callbacks.views import CallbackView
from ewallet.chat.views import ChatView
from ewallet.kit.clock import as_utc
from ewallet.kit.db.base import UTCDateTime
from ewallet.ledger import chart
from ewallet.models.funding import TopupStatus, WithdrawalStatus
from ewallet.models.support import SupportTicket
from ewallet.models.support_chat import SupportCallback, SupportChat
from ewallet.models.tables import (
    audit_events,
    cards,
    devices,
    ledger_accounts,
    notifications,
    topups,
    users,
    withdrawals,
)

OPEN_TOPUP_STATUSES = (TopupStatus.AWAITING_PAYMENT, TopupStatus.PENDING)
OPEN_WITHDRAWAL_STATUSES = (WithdrawalStatus.PROCESSING, WithdrawalStatus.PENDING)


def _one_of(column: ColumnElement[Any], codes: Iterable[str]) -> ColumnElement[bool]:
    """``column IN ('a', 'b', ...)`` over codes of this package, written into the SQL.
    ``in_(codes)`` would be an expanding parameter, which SQLAlchemy renders into the
    statement again on every execution (with the security events' 37 actions, 7 % of the
    customer view's profile samples); these codes are constants, never input."""
    quoted = ("'" + str(code).replace("'", "''") + "'" for code in codes)
    return column.in_([literal_column(text, column.type) for text in quoted])


# The view's statements are built once, with bound parameters (``user_id``, ``limit``):
# every look runs all of them, and a statement object that is reused skips SQLAlchemy's
# per-call construction and cache-key work (most of a short read's cost in Python).
_USER: BindParameter[str] = bindparam("user_id")
_LIMIT: BindParameter[int] = bindparam("limit")

_customer = select(
    users.c.id,
    users.c.phone,
    users.c.status,
    users.c.tier,
    users.c.real_name_masked,
    users.c.id_number_masked,
    users.c.identity_verified_at,
    users.c.frozen_at,
    users.c.frozen_by,
    users.c.frozen_reason,
    users.c.created_at,
    users.c.payment_password_hash.is_not(None).label("payment_password_set"),
    users.c.payment_locked_until,
    users.c.payment_failures,
    users.c.login_locked_until,
    users.c.login_failures,
    users.c.totp_enabled_at,
).where(users.c.id == _USER)

_customer_exists = select(users.c.id).where(users.c.id == _USER)

# The ledger account of the customer's wallet, by its code (bound ``wallet_code``): the
# view hands it to the history's reader, which would otherwise look it up itself.
_WALLET_CODE: BindParameter[str] = bindparam("wallet_code")
_wallet_account_id = select(ledger_accounts.c.id).where(ledger_accounts.c.code == _WALLET_CODE)


def wallet_code(user_id: str) -> str:
    """The code of the customer's CNY wallet account (the one the history lists)."""
    return chart.wallet(user_id).code


async def customer(conn: AsyncConnection, user_id: str) -> Row[*tuple[Any, ...]] | None:
    """The columns of the customer's ``users`` row the view shows (no secrets, no hashes
    but whether the payment password is set), or None."""
    return (await conn.execute(_customer, {"user_id": user_id})).first()


async def customer_exists(conn: AsyncConnection, user_id: str) -> bool:
    return (await conn.execute(_customer_exists, {"user_id": user_id})).first() is not None


# Ids sort by creation (kit/ids.py): newest first is the (user_id, id) index read
# backwards, ``limit`` entries, however many the customer has (a caller may have opened
# a thousand tickets).
_T = SupportTicket


def _tickets_query(limit: Any) -> Select[*tuple[Any, ...]]:
    return (
        select(_T.id, _T.reference, _T.subject, _T.channel, _T.category, _T.status, _T.created_at)
        .where(_T.user_id == _USER)
        .order_by(_T.id.desc())
        .limit(limit)
    )


_C = SupportChat


def _chats_query(limit: Any) -> Select[*tuple[Any, ...]]:
    return (
        select(
            _C.id,
            _C.user_id,
            _C.status,
            _C.locale,
            _C.agent_id,
            _C.ticket_id,
            _C.created_at,
            _C.closed_at,
            _C.closed_by,
        )
        .where(_C.user_id == _USER)
        .order_by(_C.id.desc())
        .limit(limit)
    )


_B = SupportCallback


def _callbacks_query(limit: Any) -> Select[*tuple[Any, ...]]:
    return (
        select(
            _B.id,
            _B.user_id,
            _B.phone,
            _B.topic,
            _B.preferred_from,
            _B.preferred_to,
            _B.status,
            _B.outcome,
            _B.handled_by,
            _B.created_at,
            _B.closed_at,
        )
        .where(_B.user_id == _USER)
        .order_by(_B.id.desc())
        .limit(limit)
    )


_recent_tickets = _tickets_query(_LIMIT)
_recent_chats = _chats_query(_LIMIT)
_recent_callbacks = _callbacks_query(_LIMIT)


async def recent_tickets(conn: AsyncConnection, user_id: str, *, limit: int) -> list[TicketBrief]:
    """The customer's newest tickets first."""
    rows = await conn.execute(_recent_tickets, {"user_id": user_id, "limit": limit})
    return [TicketBrief(**row._mapping) for row in rows]


async def recent_chats(conn: AsyncConnection, user_id: str, *, limit: int) -> list[ChatView]:
    """The customer's newest chats first."""
    rows = await conn.execute(_recent_chats, {"user_id": user_id, "limit": limit})
    return [ChatView(**row._mapping) for row in rows]


async def recent_callbacks(
    conn: AsyncConnection, user_id: str, *, limit: int
) -> list[CallbackView]:
    """The customer's call-back requests, newest first (as the call-backs feature lists
    them to the customer)."""
    rows = await conn.execute(_recent_callbacks, {"user_id": user_id, "limit": limit})
    return [CallbackView(**row._mapping) for row in rows]


def _cards_query(limit: Any) -> Select[Any]:
    return (
        select(
            cards.c.id,
            cards.c.bank_name,
            cards.c.card_type,
            cards.c.last_four,
            cards.c.status,
            cards.c.created_at,
            cards.c.verified_at,
            cards.c.unbound_at,
        )
        .where(cards.c.user_id == _USER)
        .order_by(cards.c.created_at.desc(), cards.c.id.desc())
        .limit(limit)
    )


_customer_cards = _cards_query(_LIMIT)


async def customer_cards(conn: AsyncConnection, user_id: str, *, limit: int) -> list[CardBrief]:
    """The customer's cards, newest first: bank, type and last four, never more."""
    rows = await conn.execute(_customer_cards, {"user_id": user_id, "limit": limit})
    return [CardBrief(**row._mapping) for row in rows]


@dataclass(frozen=True, slots=True)
class MovementRow:
    id: str
    status: str
    method: str | None
    amount: int
    fee: int | None
    currency: str
    bank_name: str | None
    last_four: str | None
    created_at: datetime


def _topups_query(limit: Any) -> Select[Any]:
    return (
        select(
            topups.c.id,
            topups.c.status,
            topups.c.method,
            topups.c.amount,
            topups.c.currency,
            cards.c.bank_name,
            cards.c.last_four,
            topups.c.created_at,
        )
        .outerjoin(cards, cards.c.id == topups.c.card_id)
        .where(topups.c.user_id == _USER, _one_of(topups.c.status, OPEN_TOPUP_STATUSES))
        .order_by(topups.c.created_at, topups.c.id)
        .limit(limit)
    )


def _withdrawals_query(limit: Any) -> Select[Any]:
    return (
        select(
            withdrawals.c.id,
            withdrawals.c.status,
            withdrawals.c.amount,
            withdrawals.c.fee,
            withdrawals.c.currency,
            cards.c.bank_name,
            cards.c.last_four,
            withdrawals.c.created_at,
        )
        .outerjoin(cards, cards.c.id == withdrawals.c.card_id)
        .where(
            withdrawals.c.user_id == _USER, _one_of(withdrawals.c.status, OPEN_WITHDRAWAL_STATUSES)
        )
        .order_by(withdrawals.c.created_at, withdrawals.c.id)
        .limit(limit)
    )


_open_topups = _topups_query(_LIMIT)
_open_withdrawals = _withdrawals_query(_LIMIT)


def _movement(r: Mapping[str, Any]) -> MovementRow:
    """A top-up (no fee) or a withdrawal (no method) as one shape."""
    return MovementRow(
        r["id"],
        r["status"],
        r.get("method"),
        r["amount"],
        r.get("fee"),
        r["currency"],
        r["bank_name"],
        r["last_four"],
        r["created_at"],
    )


async def open_topups(conn: AsyncConnection, user_id: str, *, limit: int) -> list[MovementRow]:
    """The customer's top-ups still awaiting payment or an answer from the bank, oldest first."""
    rows = await conn.execute(_open_topups, {"user_id": user_id, "limit": limit})
    return [_movement(r._mapping) for r in rows]


async def open_withdrawals(conn: AsyncConnection, user_id: str, *, limit: int) -> list[MovementRow]:
    """The customer's withdrawals not settled yet, oldest first."""
    rows = await conn.execute(_open_withdrawals, {"user_id": user_id, "limit": limit})
    return [_movement(r._mapping) for r in rows]


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: str
    kind: str
    params: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    is_security: bool


def _notices_query(limit: Any) -> Select[Any]:
    return (
        select(
            notifications.c.id,
            notifications.c.kind,
            notifications.c.params,
            notifications.c.created_at,
            notifications.c.read_at,
            notifications.c.is_security,
        )
        .where(notifications.c.user_id == _USER)
        .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        .limit(limit)
    )


_latest_notices = _notices_query(_LIMIT)


def _notice(r: Mapping[str, Any]) -> NoticeRow:
    return NoticeRow(
        r["id"], r["kind"], dict(r["params"] or {}), r["created_at"], r["read_at"], r["is_security"]
    )


async def latest_notices(conn: AsyncConnection, user_id: str, *, limit: int) -> list[NoticeRow]:
    """The notices the customer was sent, newest first."""
    rows = await conn.execute(_latest_notices, {"user_id": user_id, "limit": limit})
    return [_notice(r._mapping) for r in rows]


def _devices_query(limit: Any) -> Select[Any]:
    return (
        select(
            devices.c.id,
            devices.c.label,
            devices.c.trusted_at,
            devices.c.first_seen_at,
            devices.c.last_seen_at,
            devices.c.revoked_at,
        )
        .where(devices.c.user_id == _USER)
        .order_by(devices.c.last_seen_at.desc(), devices.c.id.desc())
        .limit(limit)
    )


_customer_devices = _devices_query(_LIMIT)


def _device(r: Mapping[str, Any]) -> DeviceBrief:
    return DeviceBrief(
        r["id"],
        r["label"],
        r["trusted_at"] is not None,
        r["first_seen_at"],
        r["last_seen_at"],
        r["revoked_at"],
    )


async def customer_devices(conn: AsyncConnection, user_id: str, *, limit: int) -> list[DeviceBrief]:
    """The customer's devices, the most recently seen first (no keys, no addresses)."""
    rows = await conn.execute(_customer_devices, {"user_id": user_id, "limit": limit})
    return [_device(r._mapping) for r in rows]


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    action: str
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    subject_type: str | None
    subject_id: str | None
    ip: str | None
    details: dict[str, Any]


@cache
def _security_events(actions: tuple[str, ...], limit: Any = _LIMIT) -> Select[Any]:
    """The statement of :func:`security_events` for one set of actions (made once)."""
    subjects = union_all(
        select(bindparam("user_id", type_=String)),
        select(devices.c.id).where(devices.c.user_id == _USER),
    )
    return (
        select(
            audit_events.c.id,
            audit_events.c.action,
            audit_events.c.occurred_at,
            audit_events.c.actor_type,
            audit_events.c.actor_id,
            audit_events.c.subject_type,
            audit_events.c.subject_id,
            audit_events.c.ip,
            audit_events.c.details,
        )
        .where(
            audit_events.c.subject_id.in_(subjects),
            _one_of(audit_events.c.subject_type, ("user", "device")),
            _one_of(audit_events.c.action, actions),
        )
        .order_by(audit_events.c.id.desc())
        .limit(limit)
    )


def _event(r: Mapping[str, Any]) -> EventRow:
    return EventRow(
        r["id"],
        r["action"],
        r["occurred_at"],
        r["actor_type"],
        r["actor_id"],
        r["subject_type"],
        r["subject_id"],
        r["ip"],
        dict(r["details"] or {}),
    )


async def security_events(
    conn: AsyncConnection, user_id: str, *, actions: tuple[str, ...], limit: int
) -> list[EventRow]:
    """Audit events of ``actions`` about the customer's account or one of their devices,
    newest first, in one statement (their devices' ids as a sub-select). Found on the
    subject index (an ``IN`` over the account and its devices); the many events staff
    leave about a customer (each view) are filtered out by action, never returned."""
    rows = await conn.execute(_security_events(actions), {"user_id": user_id, "limit": limit})
    return [_event(r._mapping) for r in rows]


# The whole view in one round trip (PostgreSQL).


@dataclass(frozen=True, slots=True)
class OverviewLimits:
    recent: int  # tickets, chats, call-backs, notices
    cards: int
    movements: int  # top-ups and withdrawals in flight, each
    devices: int
    events: int


@dataclass(frozen=True, slots=True)
class Overview:
    """The customer's row (the columns of :func:`customer`) and the view's lists, as the
    functions above read them one by one."""

    customer: Row[*tuple[Any, ...]]
    wallet_account_id: int | None  # None: no wallet yet
    tickets: list[TicketBrief]
    chats: list[ChatView]
    callbacks: list[CallbackView]
    cards: list[CardBrief]
    topups: list[MovementRow]
    withdrawals: list[MovementRow]
    notices: list[NoticeRow]
    devices: list[DeviceBrief]
    events: list[EventRow]


# How a row of each list becomes its view.
_VIEWS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "tickets": lambda r: TicketBrief(**r),
    "chats": lambda r: ChatView(**r),
    "callbacks": lambda r: CallbackView(**r),
    "cards": lambda r: CardBrief(**r),
    "topups": _movement,
    "withdrawals": _movement,
    "notices": _notice,
    "devices": _device,
    "events": _event,
}


def _as_json_array(statement: Select[Any]) -> Any:
    """``statement``'s rows as one JSON array of objects (column name -> value), in its
    order: ``json_agg`` over the sorted, limited sub-select (a sub-select with a ``LIMIT``
    is never merged into the outer query, so the aggregate reads its rows as sorted)."""
    rows = statement.subquery()
    array = func.coalesce(func.json_agg(rows.table_valued()), literal_column("'[]'::json"))
    return select(array).scalar_subquery()


def _moments(statement: Select[Any]) -> tuple[str, ...]:
    """The columns of ``statement`` that hold a moment (JSON gives them as ISO text)."""
    return tuple(
        column.name
        for column in statement.selected_columns
        if isinstance(column.type, DateTime | UTCDateTime)
    )


@dataclass(frozen=True, slots=True)
class _OverviewStatement:
    statement: Select[Any]
    moments: dict[str, tuple[str, ...]]  # list -> its moment columns


@cache
def _overview(limits: OverviewLimits, actions: tuple[str, ...]) -> _OverviewStatement:
    """The customer's row with one JSON array per list: the statements of the functions
    above, each with its own limit (made once per limits)."""
    statements = {
        "tickets": _tickets_query(limits.recent),
        "chats": _chats_query(limits.recent),
        "callbacks": _callbacks_query(limits.recent),
        "cards": _cards_query(limits.cards),
        "topups": _topups_query(limits.movements),
        "withdrawals": _withdrawals_query(limits.movements),
        "notices": _notices_query(limits.recent),
        "devices": _devices_query(limits.devices),
        "events": _security_events(actions, limits.events),
    }
    combined = _customer.add_columns(
        _wallet_account_id.scalar_subquery().label("wallet_account_id"),
        *(_as_json_array(statement).label(name) for name, statement in statements.items()),
    )
    moments = {name: _moments(statement) for name, statement in statements.items()}
    return _OverviewStatement(combined, moments)


def _from_json(item: dict[str, Any], moments: tuple[str, ...]) -> dict[str, Any]:
    for name in moments:
        if item[name] is not None:
            item[name] = as_utc(datetime.fromisoformat(item[name]))
    return item


async def customer_overview(
    conn: AsyncConnection, user_id: str, *, limits: OverviewLimits, actions: tuple[str, ...]
) -> Overview | None:
    """The customer's row, their wallet's account id and every list of the view (security
    events of ``actions``), or None for no such customer. On PostgreSQL one statement,
    each list a JSON array read back into the same views; on SQLite (no round trips to
    save) the functions above, one after the other."""
    if conn.dialect.name != "postgresql":
        return await customer_overview_stepwise(conn, user_id, limits=limits, actions=actions)
    built = _overview(limits, actions)
    params = {"user_id": user_id, "wallet_code": wallet_code(user_id)}
    row = (await conn.execute(built.statement, params)).first()
    if row is None:
        return None
    found = row._mapping
    lists = {
        name: [view(_from_json(item, built.moments[name])) for item in found[name]]
        for name, view in _VIEWS.items()
    }
    wallet = found["wallet_account_id"]
    return Overview(
        customer=row, wallet_account_id=None if wallet is None else int(wallet), **lists
    )


async def customer_overview_stepwise(
    conn: AsyncConnection, user_id: str, *, limits: OverviewLimits, actions: tuple[str, ...]
) -> Overview | None:
    """:func:`customer_overview` a statement per list (SQLite's way; the tests hold the
    one statement to it)."""
    user = await customer(conn, user_id)
    if user is None:
        return None
    wallet = await conn.scalar(_wallet_account_id, {"wallet_code": wallet_code(user_id)})
    return Overview(
        customer=user,
        wallet_account_id=None if wallet is None else int(wallet),
        tickets=await recent_tickets(conn, user_id, limit=limits.recent),
        chats=await recent_chats(conn, user_id, limit=limits.recent),
        callbacks=await recent_callbacks(conn, user_id, limit=limits.recent),
        cards=await customer_cards(conn, user_id, limit=limits.cards),
        topups=await open_topups(conn, user_id, limit=limits.movements),
        withdrawals=await open_withdrawals(conn, user_id, limit=limits.movements),
        notices=await latest_notices(conn, user_id, limit=limits.recent),
        devices=await customer_devices(conn, user_id, limit=limits.devices),
        events=await security_events(conn, user_id, actions=actions, limit=limits.events),
    )
