"""The ``topups`` rows: create one (after the freeze check), read the caller's own, fail one,
find the one a request made (its request key, :mod:`ewallet.kit.request_key`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.identity.guards import ensure_not_frozen
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey, row_for_request
from ewallet.ledger import Transaction, TransactionKind, apply_command, chart, transfer
from ewallet.ledger import repository as ledger_repository
from ewallet.models.identity import User
from ewallet.models.tables import topups
from ewallet.notify.service import notify_user

TopupMethod = Literal["card", "alipay", "wechat_pay"]


@dataclass(frozen=True, slots=True)
class TopupView:
    id: str
    user_id: str
    method: str
    amount: Money
    status: str
    provider_reference: str | None
    ledger_transaction_id: str | None
    created_at: datetime
    completed_at: datetime | None
    failure_reason: str | None = None

    @classmethod
    def of(cls, row: Any) -> TopupView:
        return cls(
            id=row.id,
            user_id=row.user_id,
            method=row.method,
            amount=Money(row.amount, row.currency),
            status=row.status,
            provider_reference=row.provider_reference,
            ledger_transaction_id=row.ledger_transaction_id,
            created_at=row.created_at,
            completed_at=row.completed_at,
            failure_reason=row.failure_reason,
        )


async def create_topup(
    engine: AsyncEngine,
    *,
    clock: Clock,
    user_id: str,
    method: TopupMethod,
    amount: Money,
    request_key: str | None = None,
) -> TopupView:
    """Insert an ``awaiting_payment`` top-up in its own unit; a frozen account gets none."""
    topup_id = new_id("top")

    async def work(uow: UnitOfWork) -> TopupView:
        conn = await uow.connection()
        await ensure_not_frozen(conn, user_id=user_id)
        now = clock.now()
        await conn.execute(
            insert(topups).values(
                id=topup_id,
                user_id=user_id,
                method=method,
                card_id=None,
                amount=amount.minor,
                currency=amount.currency,
                status="awaiting_payment",
                provider_reference=None,
                failure_reason=None,
                ledger_transaction_id=None,
                request_key=request_key,
                created_at=now,
                updated_at=now,
                completed_at=None,
            )
        )
        row = (await conn.execute(select(topups).where(topups.c.id == topup_id))).one()
        return TopupView.of(row)

    return await run_unit(engine, work)


async def get_topup(engine: AsyncEngine, *, topup_id: str, user_id: str | None) -> TopupView:
    """The top-up ``topup_id``; with ``user_id``, only that user's (else not_found)."""

    async def work(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        statement = select(topups).where(topups.c.id == topup_id)
        if user_id is not None:
            statement = statement.where(topups.c.user_id == user_id)
        return (await conn.execute(statement)).first()

    row = await run_unit(engine, work, read_only=True)
    if row is None:
        raise NotFoundError("no such top-up")
    return TopupView.of(row)


async def topup_for_request(
    engine: AsyncEngine, *, user_id: str, request_key: RequestKey | None
) -> TopupView | None:
    """The top-up an earlier run of the same request made, if any (a rerun answers it)."""
    row = await row_for_request(
        engine, topups, owner="user_id", owner_id=user_id, request_key=request_key
    )
    return None if row is None else TopupView.of(row)


async def find_topup(engine: AsyncEngine, topup_id: str) -> TopupView | None:
    try:
        return await get_topup(engine, topup_id=topup_id, user_id=None)
    except NotFoundError:
        return None


async def mark_failed(
    engine: AsyncEngine, *, clock: Clock, topup_id: str, reason: str, forget_request: bool = False
) -> None:
    """Fail a top-up still awaiting payment (a later ``succeeded`` notice still credits it).

    ``forget_request`` drops its request key: the client's retry starts a new top-up.
    """
    forget: dict[str, Any] = {"request_key": None} if forget_request else {}

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        now = clock.now()
        await conn.execute(
            update(topups)
            .where(topups.c.id == topup_id, topups.c.status == "awaiting_payment")
            .values(
                status="failed",
                failure_reason=reason[:200],
                updated_at=now,
                completed_at=now,
                **forget,
            )
        )

    await run_unit(engine, work)


async def credit_topup(
    uow: UnitOfWork,
    *,
    clock: Clock,
    topup: TopupView,
    source_account_id: int,
    creditable: tuple[str, ...],
    provider_reference: str | None,
    metadata: dict[str, Any],
) -> bool:
    """Mark the top-up succeeded and credit the wallet, once, in the caller's unit of work.

    The conditional status update claims the top-up (a concurrent settler finds it taken
    and answers False); the ledger key ``topup:<id>`` makes a second credit impossible
    even so. The owner gets an in-app notice. The wallet account must already be open.
    """
    conn = await uow.connection()
    now = clock.now()
    claimed = await conn.execute(
        update(topups)
        .where(topups.c.id == topup.id, topups.c.status.in_(creditable))
        .values(
            status="succeeded",
            provider_reference=provider_reference,
            failure_reason=None,
            updated_at=now,
            completed_at=now,
        )
    )
    if claimed.rowcount != 1:
        return False
    wallet = await ledger_repository.get_account_by_code(
        conn, chart.wallet(topup.user_id, topup.amount.currency).code
    )
    if wallet is None:
        raise RuntimeError("open the wallet account before crediting a top-up")
    outcome = await apply_command(
        uow,
        transfer(
            key=f"topup:{topup.id}",
            debit_account_id=source_account_id,
            credit_account_id=wallet.id,
            amount=topup.amount,
            kind=TransactionKind.TOPUP,
            metadata={"topup_id": topup.id, **metadata},
        ),
        clock=clock,
    )
    assert isinstance(outcome, Transaction)
    await conn.execute(
        update(topups).where(topups.c.id == topup.id).values(ledger_transaction_id=outcome.id)
    )
    user = await uow.session.get(User, topup.user_id)
    assert user is not None
    await notify_user(
        uow.session,
        clock=clock,
        user=user,
        kind="topup_succeeded",
        params={"amount": topup.amount.to_decimal_string(), "currency": topup.amount.currency},
        sms=False,
        security=False,
    )
    return True
