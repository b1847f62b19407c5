"""SQL of data copies: the request rows, and every table a copy reads about one user.

The sections are read straight from the tables (identity sits below the features that own
cards, tickets and history, and may not import their services); each query is bounded by
the user's id. Rows come back as plain dicts ready for JSON. No commits here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.data_copy.views import DataCopyView
from ewallet.models.account_closure import DataCopyStatus
from ewallet.models.support import SupportTicket
from ewallet.models.tables import (
    audit_events,
    cards,
    data_copies,
    devices,
    ledger_accounts,
    ledger_postings,
    ledger_transactions,
    notifications,
    password_free_settings,
    sessions,
    users,
)

tickets = SupportTicket.__table__

_VIEW = (
    data_copies.c.id,
    data_copies.c.status,
    data_copies.c.requested_at,
    data_copies.c.ready_at,
    data_copies.c.expires_at,
)


def _view(row: Any) -> DataCopyView:
    return DataCopyView(row.id, row.status, row.requested_at, row.ready_at, row.expires_at)


async def insert_copy(
    conn: AsyncConnection, *, copy_id: str, user_id: str, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        insert(data_copies).values(
            id=copy_id,
            user_id=user_id,
            status=DataCopyStatus.BUILDING,
            requested_at=now,
            ready_at=None,
            expires_at=expires_at,
        )
    )


async def building_copy_exists(conn: AsyncConnection, user_id: str) -> bool:
    query = select(func.count()).where(
        data_copies.c.user_id == user_id, data_copies.c.status == DataCopyStatus.BUILDING
    )
    return bool(await conn.scalar(query))


async def copies_since(conn: AsyncConnection, user_id: str, since: datetime) -> int:
    query = select(func.count()).where(
        data_copies.c.user_id == user_id, data_copies.c.requested_at > since
    )
    return int(await conn.scalar(query) or 0)


async def list_copies(
    conn: AsyncConnection, user_id: str, *, limit: int = 20
) -> list[DataCopyView]:
    query = (
        select(*_VIEW)
        .where(data_copies.c.user_id == user_id)
        .order_by(data_copies.c.requested_at.desc(), data_copies.c.id.desc())
        .limit(limit)
    )
    return [_view(row) for row in await conn.execute(query)]


async def copy_of(conn: AsyncConnection, *, copy_id: str, user_id: str | None) -> Any:
    """The copy with its documents (``user_id`` None: whoever owns it, for the worker)."""
    query = select(data_copies).where(data_copies.c.id == copy_id)
    if user_id is not None:
        query = query.where(data_copies.c.user_id == user_id)
    return (await conn.execute(query)).first()


async def store_documents(
    conn: AsyncConnection, *, copy_id: str, json_document: str, pdf_document: bytes, now: datetime
) -> bool:
    """Mark a building copy ready with its documents; False if it was not building."""
    result = await conn.execute(
        update(data_copies)
        .where(data_copies.c.id == copy_id, data_copies.c.status == DataCopyStatus.BUILDING)
        .values(
            status=DataCopyStatus.READY,
            ready_at=now,
            json_document=json_document,
            pdf_document=pdf_document,
        )
    )
    return result.rowcount == 1


async def drop_expired_documents(conn: AsyncConnection, *, user_id: str, now: datetime) -> None:
    """Expired copies keep their row (the list shows them expired) but not the documents."""
    await conn.execute(
        update(data_copies)
        .where(
            data_copies.c.user_id == user_id,
            data_copies.c.expires_at <= now,
            data_copies.c.json_document.is_not(None),
        )
        .values(json_document=None, pdf_document=None)
    )


# --- The sections of a copy ---------------------------------------------------------------


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in result]


async def profile(conn: AsyncConnection, user_id: str) -> dict[str, Any]:
    query = select(
        users.c.id,
        users.c.phone,
        users.c.status,
        users.c.tier,
        users.c.locale,
        users.c.nickname,
        users.c.real_name_encrypted,
        users.c.id_number_masked,
        users.c.identity_verified_at,
        users.c.totp_enabled_at,
        users.c.anti_phishing_code,
        users.c.frozen_at,
        users.c.created_at,
    ).where(users.c.id == user_id)
    return dict((await conn.execute(query)).one()._mapping)


async def user_cards(conn: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    query = (
        select(
            cards.c.id,
            cards.c.status,
            cards.c.bank_name,
            cards.c.card_type,
            cards.c.last_four,
            cards.c.holder_name_masked,
            cards.c.bank_phone_masked,
        )
        .where(cards.c.user_id == user_id)
        .order_by(cards.c.id)
    )
    return _rows(await conn.execute(query))


def _wallets(user_id: str) -> Any:
    return ledger_accounts.c.code.startswith(f"wallet:{user_id}:", autoescape=True)


async def balances(conn: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    query = select(
        ledger_accounts.c.currency,
        ledger_accounts.c.posted,
        ledger_accounts.c.pending_debits,
    ).where(ledger_accounts.c.kind == "wallet", _wallets(user_id))
    return _rows(await conn.execute(query))


async def transactions(conn: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    """Every posting on the user's wallets, oldest first (the full history)."""
    query = (
        select(
            ledger_transactions.c.id.label("transaction_id"),
            ledger_transactions.c.kind,
            ledger_postings.c.amount,
            ledger_postings.c.currency,
            ledger_postings.c.balance_after,
            ledger_postings.c.created_at,
        )
        .join(ledger_transactions, ledger_transactions.c.id == ledger_postings.c.transaction_id)
        .join(ledger_accounts, ledger_accounts.c.id == ledger_postings.c.account_id)
        .where(ledger_accounts.c.kind == "wallet", _wallets(user_id))
        .order_by(ledger_postings.c.id)
    )
    return _rows(await conn.execute(query))


async def user_devices(conn: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    query = (
        select(
            devices.c.id,
            devices.c.label,
            devices.c.first_seen_at,
            devices.c.last_seen_at,
            devices.c.last_ip,
            devices.c.trusted_at,
            devices.c.revoked_at,
        )
        .where(devices.c.user_id == user_id)
        .order_by(devices.c.first_seen_at)
    )
    return _rows(await conn.execute(query))


async def user_sessions(conn: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    query = (
        select(
            sessions.c.id,
            sessions.c.device_id,
            sessions.c.created_at,
            sessions.c.last_seen_at,
            sessions.c.revoked_at,
            sessions.c.revoked_reason,
        )
        .where(sessions.c.user_id == user_id)
        .order_by(sessions.c.created_at)
    )
    return _rows(await conn.execute(query))


async def user_notices(conn: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    query = (
        select(
            notifications.c.id,
            notifications.c.kind,
            notifications.c.params,
            notifications.c.created_at,
            notifications.c.read_at,
        )
        .where(notifications.c.user_id == user_id)
        .order_by(notifications.c.created_at, notifications.c.id)
    )
    return _rows(await conn.execute(query))


async def security_events(conn: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    """Audit events about the account (its security history), never other people's."""
    query = (
        select(
            audit_events.c.occurred_at,
            audit_events.c.action,
            audit_events.c.actor_type,
            audit_events.c.ip,
        )
        .where(audit_events.c.subject_type == "user", audit_events.c.subject_id == user_id)
        .order_by(audit_events.c.id)
    )
    return _rows(await conn.execute(query))


async def user_tickets(conn: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    query = (
        select(
            tickets.c.reference,
            tickets.c.subject,
            tickets.c.status,
            tickets.c.channel,
            tickets.c.created_at,
        )
        .where(tickets.c.user_id == user_id)
        .order_by(tickets.c.created_at)
    )
    return _rows(await conn.execute(query))


async def password_free(conn: AsyncConnection, user_id: str) -> dict[str, Any] | None:
    query = select(
        password_free_settings.c.enabled, password_free_settings.c.per_payment_cap
    ).where(password_free_settings.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return None if row is None else dict(row._mapping)
