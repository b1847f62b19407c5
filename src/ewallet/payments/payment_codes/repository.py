"""All SQL of the payment code: users' secrets, charges (each code's one use) and the
guessing budgets' rows. Nothing here commits (the service's unit does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, Select, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.payment_codes import ChargeStatus
from ewallet.models.tables import audit_events
from ewallet.models.tables import payment_code_charges as code_charges
from ewallet.models.tables import payment_code_funding as code_funding
from ewallet.models.tables import payment_code_guards as guards
from ewallet.models.tables import payment_code_secrets as code_secrets
from ewallet.payments.payment_codes.guard import GuardState
from ewallet.payments.payment_codes.sealing import SealedSecret

FREEZE_ACTIONS: Final = ("account.frozen", "account.unfrozen")


@dataclass(frozen=True, slots=True)
class ChargeRow:
    """A ``payment_code_charges`` row, as the charge's view needs it."""

    id: str
    order_id: str
    merchant_id: str
    status: str
    auth: str | None
    payment_id: str | None
    expires_at: datetime

    @classmethod
    def of(cls, row: Row[Any]) -> ChargeRow:
        return cls(
            row.id,
            row.order_id,
            row.merchant_id,
            row.status,
            row.auth,
            row.payment_id,
            row.expires_at,
        )


@dataclass(frozen=True, slots=True)
class ClaimState:
    """What claiming a code checks under the user's lock, read in one statement."""

    sealed: str | None  # the secret's stored form now (None: the row is gone)
    used: bool  # a charge already took this (step, counter)
    epoch: int  # the newest freeze/unfreeze event
    funding: str | None = None  # the user's payment-code source (None: never chosen)


# ----------------------------------------------------------------------- secrets


def _sealed(row: Row[Any]) -> SealedSecret:
    return SealedSecret(row.user_id, row.lookup_id, row.secret_encrypted, row.freeze_event_id)


def freeze_epoch_query(user_id: str) -> Select[Any]:
    """The id of the user's newest freeze or unfreeze audit event (0: never frozen), as a
    query to fold into a statement with other reads."""
    return select(func.coalesce(func.max(audit_events.c.id), 0)).where(
        audit_events.c.subject_id == user_id,
        audit_events.c.subject_type == "user",
        audit_events.c.action.in_(FREEZE_ACTIONS),
    )


async def freeze_epoch(conn: AsyncConnection, user_id: str) -> int:
    return int((await conn.execute(freeze_epoch_query(user_id))).scalar_one())


async def secret_by_lookup(conn: AsyncConnection, lookup_id: int) -> SealedSecret | None:
    statement = select(code_secrets).where(code_secrets.c.lookup_id == lookup_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else _sealed(row)


async def secret_of_user(conn: AsyncConnection, user_id: str) -> SealedSecret | None:
    statement = select(code_secrets).where(code_secrets.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else _sealed(row)


async def lookup_id_taken(conn: AsyncConnection, lookup_id: int) -> bool:
    statement = select(code_secrets.c.user_id).where(code_secrets.c.lookup_id == lookup_id)
    return (await conn.execute(statement)).first() is not None


async def insert_secret(
    conn: AsyncConnection,
    *,
    user_id: str,
    lookup_id: int,
    sealed: str,
    freeze_event_id: int,
    now: datetime,
) -> None:
    await conn.execute(
        insert(code_secrets).values(
            user_id=user_id,
            lookup_id=lookup_id,
            created_at=now,
            secret_encrypted=sealed,
            freeze_event_id=freeze_event_id,
            rotated_at=now,
        )
    )


async def replace_secret(
    conn: AsyncConnection, *, user_id: str, sealed: str, freeze_event_id: int, now: datetime
) -> None:
    await conn.execute(
        update(code_secrets)
        .where(code_secrets.c.user_id == user_id)
        .values(secret_encrypted=sealed, freeze_event_id=freeze_event_id, rotated_at=now)
    )


async def last_counter(conn: AsyncConnection, *, user_id: str, step: int) -> int | None:
    """The highest counter of ``step`` a charge of the user has used (None: none)."""
    statement = select(func.max(code_charges.c.counter)).where(
        code_charges.c.user_id == user_id, code_charges.c.step == step
    )
    used = (await conn.execute(statement)).scalar()
    return None if used is None else int(used)


# ----------------------------------------------------------------------- charges


async def claim_state(
    conn: AsyncConnection, *, user_id: str, lookup_id: int, step: int, counter: int
) -> ClaimState:
    sealed = select(code_secrets.c.secret_encrypted).where(code_secrets.c.lookup_id == lookup_id)
    used = exists().where(
        code_charges.c.user_id == user_id,
        code_charges.c.step == step,
        code_charges.c.counter == counter,
    )
    source = select(code_funding.c.source).where(code_funding.c.user_id == user_id)
    statement = select(
        sealed.scalar_subquery().label("sealed"),
        used.label("used"),
        freeze_epoch_query(user_id).scalar_subquery().label("epoch"),
        source.scalar_subquery().label("funding"),
    )
    row = (await conn.execute(statement)).one()
    return ClaimState(row.sealed, bool(row.used), int(row.epoch), row.funding)


async def charge_of_order(conn: AsyncConnection, order_id: str) -> ChargeRow | None:
    statement = select(code_charges).where(code_charges.c.order_id == order_id)
    row = (await conn.execute(statement)).first()
    return None if row is None else ChargeRow.of(row)


async def charge_of_user(
    conn: AsyncConnection, *, charge_id: str, user_id: str
) -> ChargeRow | None:
    statement = select(code_charges).where(
        code_charges.c.id == charge_id, code_charges.c.user_id == user_id
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else ChargeRow.of(row)


async def insert_charge(
    conn: AsyncConnection,
    *,
    charge: ChargeRow,
    user_id: str,
    step: int,
    counter: int,
    amount_minor: int,
    currency: str,
    now: datetime,
) -> None:
    """Write the charge's row: the code's single use (unique per user, step and counter)."""
    await conn.execute(
        insert(code_charges),
        {
            "id": charge.id,
            "order_id": charge.order_id,
            "merchant_id": charge.merchant_id,
            "user_id": user_id,
            "step": step,
            "counter": counter,
            "amount": amount_minor,
            "currency": currency,
            "status": charge.status,
            "auth": charge.auth,
            "payment_id": charge.payment_id,
            "expires_at": charge.expires_at,
            "created_at": now,
            "completed_at": None if charge.payment_id is None else now,
        },
    )


async def claim_pending(conn: AsyncConnection, *, charge_id: str, auth: str, now: datetime) -> bool:
    """Mark a pending, unexpired charge succeeded: exactly one confirmation gets True."""
    claimed = await conn.execute(
        update(code_charges)
        .where(
            code_charges.c.id == charge_id,
            code_charges.c.status == ChargeStatus.PENDING,
            code_charges.c.expires_at > now,
        )
        .values(status=ChargeStatus.SUCCEEDED, auth=auth, completed_at=now)
    )
    return bool(claimed.rowcount == 1)


async def waiting_charges(conn: AsyncConnection, *, user_id: str, now: datetime) -> list[ChargeRow]:
    """The user's charges waiting for the payment password and still in time, oldest first."""
    statement = (
        select(code_charges)
        .where(
            code_charges.c.user_id == user_id,
            code_charges.c.status == ChargeStatus.PENDING,
            code_charges.c.expires_at > now,
        )
        .order_by(code_charges.c.created_at, code_charges.c.id)
    )
    return [ChargeRow.of(row) for row in await conn.execute(statement)]


async def newest_charge(conn: AsyncConnection, *, user_id: str) -> ChargeRow | None:
    """The user's newest charge, whatever its status (None: never charged)."""
    statement = (
        select(code_charges)
        .where(code_charges.c.user_id == user_id)
        .order_by(code_charges.c.created_at.desc(), code_charges.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else ChargeRow.of(row)


async def end_pending(
    conn: AsyncConnection, *, charge_id: str, user_id: str, now: datetime
) -> bool:
    """End the user's pending, unexpired charge at ``now`` (it then reads ``expired``):
    True if it was still waiting. A confirmation racing it claims it first or not at all."""
    ended = await conn.execute(
        update(code_charges)
        .where(
            code_charges.c.id == charge_id,
            code_charges.c.user_id == user_id,
            code_charges.c.status == ChargeStatus.PENDING,
            code_charges.c.expires_at > now,
        )
        .values(expires_at=now)
    )
    return bool(ended.rowcount == 1)


async def mark_paid(
    conn: AsyncConnection, *, charge_id: str, payment_id: str, auth: str, now: datetime
) -> bool:
    """A pending charge whose order a card-funded confirmation paid: ``succeeded`` with its
    payment (whatever its expiry: the order's reservation kept it payable)."""
    marked = await conn.execute(
        update(code_charges)
        .where(code_charges.c.id == charge_id, code_charges.c.status == ChargeStatus.PENDING)
        .values(status=ChargeStatus.SUCCEEDED, auth=auth, payment_id=payment_id, completed_at=now)
    )
    return bool(marked.rowcount == 1)


async def funding_of(conn: AsyncConnection, user_id: str) -> tuple[str, str | None] | None:
    """The user's payment-code source and card, or None (never chosen)."""
    row = (
        await conn.execute(
            select(code_funding.c.source, code_funding.c.card_id).where(
                code_funding.c.user_id == user_id
            )
        )
    ).first()
    return None if row is None else (str(row.source), row.card_id)


async def put_funding(
    conn: AsyncConnection, *, user_id: str, source: str, card_id: str | None, now: datetime
) -> None:
    """Store the user's choice (the caller holds the user's row lock: no racing insert)."""
    values = {"source": source, "card_id": card_id, "updated_at": now}
    changed = await conn.execute(
        update(code_funding).where(code_funding.c.user_id == user_id).values(**values)
    )
    if changed.rowcount == 0:
        await conn.execute(insert(code_funding).values(user_id=user_id, **values))


async def set_charge_payment(conn: AsyncConnection, *, charge_id: str, payment_id: str) -> None:
    await conn.execute(
        update(code_charges).where(code_charges.c.id == charge_id).values(payment_id=payment_id)
    )


# ----------------------------------------------------------------------- guessing budgets


async def locked_guards(conn: AsyncConnection, subject_keys: Sequence[str]) -> list[GuardState]:
    """The subjects' rows that exist, locked for this unit in ascending subject order."""
    return await guard_states(conn, subject_keys, lock=True)


async def guard_states(
    conn: AsyncConnection, subject_keys: Sequence[str], *, lock: bool = False
) -> list[GuardState]:
    """The subjects' rows that exist, in ascending subject order; with ``lock``, locked."""
    statement = (
        select(guards).where(guards.c.subject.in_(list(subject_keys))).order_by(guards.c.subject)
    )
    if lock:
        statement = statement.with_for_update()
    return [
        GuardState(row.subject, row.window_started_at, int(row.failures), row.locked_until)
        for row in await conn.execute(statement)
    ]


async def make_guards(
    conn: AsyncConnection, *, merchant_id: str, subject_keys: Sequence[str], now: datetime
) -> None:
    """Make the subjects' rows (those that exist are left as they are)."""
    dialect_insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    await conn.execute(
        dialect_insert(guards)
        .values(
            [
                {
                    "subject": key,
                    "merchant_id": merchant_id,
                    "window_started_at": now,
                    "failures": 0,
                    "locked_until": None,
                }
                for key in subject_keys
            ]
        )
        .on_conflict_do_nothing(index_elements=["subject"])
    )


async def set_guard(
    conn: AsyncConnection,
    *,
    subject: str,
    failures: int,
    window_started_at: datetime,
    locked_until: datetime | None,
) -> None:
    await conn.execute(
        update(guards)
        .where(guards.c.subject == subject)
        .values(failures=failures, window_started_at=window_started_at, locked_until=locked_until)
    )
