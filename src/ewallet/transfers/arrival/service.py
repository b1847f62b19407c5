"""Delayed transfers (PBoC 银发〔2016〕261号): when a transfer arrives, and undoing it before.

A transfer is ``realtime`` (posts at once), ``2h`` (arrives two hours after it was
accepted) or ``next_day`` (24 hours after; docs/transfers.md says why 24 hours). A delayed
one passes every check when it is made (:func:`ewallet.transfers.service.create_transfer`:
PIN, limits, risk, freezes), its amount goes on a ledger hold (payer -> payee), and it
waits ``scheduled`` with ``arrives_at``; the payee is neither credited nor told.
:func:`schedule_arrival` queues one outbox event (:data:`ARRIVAL_TOPIC`) due at that time,
in the same unit.

Two use cases then race for the transfer, and exactly one wins:

- :func:`arrive_transfer` (the event's handler, :mod:`.jobs`): posts the hold -- the payee
  credited and told, the payer told -- or, when the payer's or the payee's account can no
  longer move money (frozen or closed meanwhile), voids it: ``returned``, the money back
  with the payer, the spend released from their limits, the payer told by SMS too.
- :func:`cancel_transfer` (the payer, before ``arrives_at``): voids the hold, releases the
  spend from the day's limits (:func:`ewallet.risk.spending.release_spend`), ``cancelled``.

Both lock the payer's row first (step 1 of the lock order, docs/architecture.md), re-read
the transfer under it, then touch the hold (step 3) and leave ``scheduled`` with a
conditional ``UPDATE`` (:func:`ewallet.transfers.repository.finish_scheduled`) in the same
unit as the ledger command: a second arrival (the event delivered again after a crash or
a lost lease), a second cancel, or a cancel racing the arrival finds the transfer no
longer scheduled and changes nothing. The ledger command's key (``transfer:<id>:arrival``)
guards the posting once more.

A user's default arrival option (``GET/PUT /v1/me/transfer-settings``) applies to a
transfer whose request names none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.guards import locked_user
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.ledger import PostHold, Transaction, VoidHold, apply_command
from ewallet.models.identity import UserStatus
from ewallet.models.transfers import Arrival, TransferStatus
from ewallet.risk.spending import release_spend
from ewallet.services import Services
from ewallet.transfers import repository
from ewallet.transfers.errors import TransferNotCancellableError
from ewallet.transfers.notices import tell_payee, tell_payer
from ewallet.transfers.views import TransferSettingsView, TransferView
from ewallet.worker.outbox import enqueue

T = TypeVar("T")
ARRIVAL_TOPIC: Final = "transfers.arrive"
DELAYS: Final = {Arrival.TWO_HOURS: timedelta(hours=2), Arrival.NEXT_DAY: timedelta(hours=24)}


def arrival_time(arrival: Arrival, *, accepted_at: datetime) -> datetime | None:
    """When a transfer accepted at ``accepted_at`` arrives; None for a real-time one."""
    delay = DELAYS.get(arrival)
    return None if delay is None else accepted_at + delay


async def schedule_arrival(
    uow: UnitOfWork, clock: Clock, *, transfer_id: str, arrives_at: datetime
) -> None:
    """Queue the transfer's arrival event, due at ``arrives_at``, in the caller's unit."""
    delay = max(arrives_at - clock.now(), timedelta(0))
    await enqueue(
        uow.session,
        topic=ARRIVAL_TOPIC,
        payload={"transfer_id": transfer_id},
        clock=clock,
        delay=delay,
    )


async def _load(uow: UnitOfWork, transfer_id: str) -> TransferView | None:
    found = await repository.load_transfers(await uow.connection(), [transfer_id])
    return found.get(transfer_id)


# ------------------------------------------------------------------------------ arrival


async def arrive_transfer(services: Services, transfer_id: str) -> str:
    """Finish the scheduled transfer ``transfer_id`` if it is due (module doc); its status
    after. ``scheduled`` means it is not due yet (nothing changed); any other status that
    it was already finished, by this or an earlier run, or cancelled."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> str:
        seen = await _load(uow, transfer_id)
        if seen is None:
            raise NotFoundError("no such transfer")
        if not seen.scheduled:
            return seen.status
        payer = await locked_user(uow, seen.payer.user_id)  # step 1 of the lock order
        transfer = await _load(uow, transfer_id)  # again, under the payer's lock
        assert transfer is not None
        now = clock.now()
        if not transfer.scheduled or (transfer.arrives_at and transfer.arrives_at > now):
            return transfer.status
        assert transfer.hold_id is not None
        conn = await uow.connection()
        payee = await repository.user_by_id(uow.session, transfer.payee.user_id, fresh=True)
        assert payee is not None  # users are never deleted
        amount = transfer.amount
        if payer.status != UserStatus.ACTIVE or payee.status != UserStatus.ACTIVE:
            # Money never leaves a frozen account nor lands in one that cannot take it.
            await apply_command(uow, VoidHold(hold_id=transfer.hold_id), clock=clock)
            await _release(uow, transfer_id, now)
            await _finish(conn, transfer_id, TransferStatus.RETURNED, None, now)
            await tell_payer(
                uow, clock, "transfer_returned", payer=payer, payee=payee, amount=amount
            )
            return TransferStatus.RETURNED
        posted = await apply_command(
            uow,
            PostHold(
                key=f"transfer:{transfer_id}:arrival",
                hold_id=transfer.hold_id,
                metadata={"transfer_id": transfer_id},
            ),
            clock=clock,
        )
        assert isinstance(posted, Transaction)
        await _finish(conn, transfer_id, TransferStatus.SUCCEEDED, posted.id, now)
        await tell_payee(uow, clock, payer=payer, payee=payee, amount=amount, memo=transfer.memo)
        await tell_payer(uow, clock, "transfer_arrived", payer=payer, payee=payee, amount=amount)
        return TransferStatus.SUCCEEDED

    return await run_unit(services.engine, work)


async def _release(uow: UnitOfWork, transfer_id: str, now: datetime) -> None:
    """The spend of a transfer that never reached the payee stops counting toward the
    payer's limits (the spend seam recorded it as ``transfer:<id>``)."""
    await release_spend(uow, reference=f"transfer:{transfer_id}", now=now)


async def _finish(
    conn: AsyncConnection,
    transfer_id: str,
    status: TransferStatus,
    ledger_transaction_id: str | None,
    now: datetime,
) -> None:
    """Leave ``scheduled`` for ``status``; refused (the unit rolls back, the ledger
    command with it) if something else finished the transfer first."""
    finished = await repository.finish_scheduled(
        conn,
        transfer_id=transfer_id,
        status=status,
        ledger_transaction_id=ledger_transaction_id,
        now=now,
    )
    if not finished:
        raise TransferNotCancellableError("the transfer is no longer scheduled", state="finished")


# ------------------------------------------------------------------------------ cancelling


async def cancel_transfer(services: Services, *, user_id: str, transfer_id: str) -> TransferView:
    """The payer ``user_id`` cancels their scheduled transfer before it arrives (module
    doc): the hold voided once, the spend released from the day's limits, ``cancelled``,
    the payer told. No payment password: cancelling only gives the payer's money back, and
    someone who just realised they are being scammed must not be slowed down. A frozen
    account may cancel too.

    Refusals: ``not_found`` (no such transfer of the caller's as payer -- the payee and
    anyone else get this too), ``transfer_not_cancellable`` (not scheduled: it arrived, was
    cancelled, returned, or never was delayed; member ``state``).
    """
    clock = services.clock

    async def work(uow: UnitOfWork) -> None:
        seen = await _load(uow, transfer_id)
        if seen is None or seen.payer.user_id != user_id:
            raise NotFoundError("no such transfer")
        payer = await locked_user(uow, user_id)  # step 1 of the lock order
        transfer = await _load(uow, transfer_id)  # again, under the payer's lock
        assert transfer is not None
        if not transfer.scheduled:
            raise TransferNotCancellableError(
                "only a scheduled transfer can be cancelled", state=transfer.status
            )
        assert transfer.hold_id is not None
        now = clock.now()
        await apply_command(uow, VoidHold(hold_id=transfer.hold_id), clock=clock)
        await _release(uow, transfer_id, now)
        await _finish(await uow.connection(), transfer_id, TransferStatus.CANCELLED, None, now)
        payee = await repository.user_by_id(uow.session, transfer.payee.user_id)
        assert payee is not None
        await tell_payer(
            uow, clock, "transfer_cancelled", payer=payer, payee=payee, amount=transfer.amount
        )

    await run_unit(services.engine, work)

    async def read(uow: UnitOfWork) -> TransferView | None:
        return await _load(uow, transfer_id)

    view = await run_unit(services.engine, read, read_only=True)
    assert view is not None
    return view


# ------------------------------------------------------------------------------ settings


async def transfer_settings(services: Services, user_id: str) -> TransferSettingsView:
    """The user's transfer settings (reads only)."""

    async def work(uow: UnitOfWork) -> TransferSettingsView:
        conn = await uow.connection()
        return TransferSettingsView(await repository.default_arrival(conn, user_id=user_id))

    return await run_unit(services.engine, work, read_only=True)


def with_default_arrival(
    read: Callable[[UnitOfWork, str], Awaitable[T]],
) -> Callable[[UnitOfWork, str], Awaitable[tuple[T, Arrival]]]:
    """``read`` (another feature's read for a user, such as the wallet's) and the user's
    default arrival, in one read inside the caller's unit of work: what a transfer form
    shows, read in the transaction that checks a web page's session."""

    async def both(uow: UnitOfWork, user_id: str) -> tuple[T, Arrival]:
        first = await read(uow, user_id)
        return first, await repository.default_arrival(await uow.connection(), user_id=user_id)

    return both


async def change_transfer_settings(
    services: Services, user_id: str, *, default_arrival: Arrival
) -> TransferSettingsView:
    """Set the arrival option a transfer takes when its request names none."""

    async def work(uow: UnitOfWork) -> None:
        await locked_user(uow, user_id)  # one writer of the user's settings at a time
        await repository.save_default_arrival(
            await uow.connection(),
            user_id=user_id,
            arrival=default_arrival,
            now=services.clock.now(),
        )

    await run_unit(services.engine, work)
    return TransferSettingsView(default_arrival)
