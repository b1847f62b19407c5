"""A delayed card transfer's arrival (the ``card_transfers.arrive`` outbox handler) and the
settling of card transfers whose outcome at the bank was unknown.

Each scheduled card transfer queues one event, due at its ``arrives_at``. On delivery
:func:`arrive_card_transfer` claims it (``scheduled`` -> ``processing`` with a conditional
``UPDATE`` under the payer's row lock: exactly once, and never after a cancel) and asks the
bank as for a real-time transfer. Delivered again after a crash, the transfer is no longer
scheduled and nothing is done twice: one left ``processing`` by a crash mid-call is settled
from the bank's records by :func:`settle_pending_card_transfers` (run by the withdrawals'
settle job, :func:`ewallet.funding.withdrawals.jobs.settle_pending_withdrawals`), which asks
with the same request id -- the bank never pays one id twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from ewallet.funding.withdrawals.card_transfers import repository
from ewallet.funding.withdrawals.card_transfers.service import (
    ARRIVAL_TOPIC,
    ask_bank,
    fail_card_transfer,
    request_id_of,
    status_of,
    succeed_card_transfer,
)
from ewallet.funding.withdrawals.card_transfers.views import CardTransferView
from ewallet.identity.guards import locked_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.models.card_transfers import CardTransferStatus as Status
from ewallet.models.identity import UserStatus
from ewallet.services import Services
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry

DEFAULT_GRACE: Final = timedelta(minutes=30)
DEFAULT_STALE_AFTER: Final = timedelta(minutes=5)


class CardTransferNotDueError(RuntimeError):
    """The transfer is still scheduled and not yet due: the relay tries again later."""


def register(registry: HandlerRegistry, services: Services) -> None:
    async def arrive(event: DeliveredEvent) -> None:
        transfer_id = event.payload.get("card_transfer_id")
        if not isinstance(transfer_id, str):
            raise TypeError(f"{ARRIVAL_TOPIC} event {event.id} lacks card_transfer_id")
        if await arrive_card_transfer(services, transfer_id) == Status.SCHEDULED:
            raise CardTransferNotDueError(f"card transfer {transfer_id} is not due yet")

    registry.register(ARRIVAL_TOPIC, arrive)


async def arrive_card_transfer(services: Services, transfer_id: str) -> str:
    """The arrival of a delayed card transfer (its outbox event): claim it (``scheduled``
    -> ``processing``, exactly once), then ask the bank as for a real-time one. Its status
    after; ``scheduled`` means not due yet. The payer's account frozen meanwhile: failed,
    the money back (money never leaves a frozen account)."""
    clock = services.clock

    async def claim(uow: UnitOfWork) -> tuple[str, CardTransferView | None]:
        conn = await uow.connection()
        seen = await repository.load(conn, transfer_id)
        if seen is None:
            raise NotFoundError("no such card transfer")
        now = clock.now()
        if not seen.scheduled or (seen.arrives_at is not None and seen.arrives_at > now):
            return seen.status, None
        payer = await locked_user(uow, seen.user_id)  # step 1 of the lock order
        if payer.status != UserStatus.ACTIVE:
            return Status.FAILED, None
        claimed = await repository.move(
            conn,
            transfer_id,
            from_statuses=(Status.SCHEDULED,),
            to=Status.PROCESSING,
            now=now,
            sent_at=now,
        )
        return (Status.PROCESSING, claimed) if claimed else (Status.CANCELLED, None)

    status, claimed = await run_unit(services.engine, claim)
    if status == Status.FAILED and claimed is None:
        await fail_card_transfer(services, transfer_id, "account_frozen")
        return await status_of(services, transfer_id)
    if claimed is None:
        return await status_of(services, transfer_id)
    try:
        return (await ask_bank(services, claimed)).status
    except DomainError:
        return await status_of(services, transfer_id)  # recorded: failed, money released


@dataclass(slots=True)
class CardTransferSettleReport:
    examined: int = 0
    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def settle_pending_card_transfers(
    services: Services,
    *,
    limit: int = 200,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    grace: timedelta = DEFAULT_GRACE,
) -> CardTransferSettleReport:
    """Finish open card transfers from the bank's records, as withdrawals are
    (:mod:`ewallet.funding.withdrawals.jobs`): ``succeeded`` posts, ``declined`` gives the
    money back, ``not_found`` gives it back only once the request is older than ``grace``
    (it may still be on its way). Safe to repeat and to race."""
    now = services.clock.now()

    async def open_ones(uow: UnitOfWork) -> list[CardTransferView]:
        conn = await uow.connection()
        return await repository.unsettled(conn, stale_before=now - stale_after, limit=limit)

    report = CardTransferSettleReport()
    for transfer in await run_unit(services.engine, open_ones, read_only=True):
        report.examined += 1
        try:
            answer = await services.bank.query(request_id=request_id_of(transfer.id))
        except DomainError:
            report.errors.append(transfer.id)
            continue
        sent = transfer.sent_at or transfer.created_at
        if answer.status == "succeeded":
            await succeed_card_transfer(services, transfer.id, answer.bank_reference)
            report.succeeded.append(transfer.id)
        elif answer.status == "declined" or now - sent >= grace:
            await fail_card_transfer(services, transfer.id, answer.reason or answer.status)
            report.failed.append(transfer.id)
        else:
            report.still_pending.append(transfer.id)
    return report
