"""Finishing withdrawals whose outcome at the bank was unknown, from the bank's records.

A withdrawal is ``pending`` when the bank's answer never came (timeout, 5xx, dropped
connection), and stuck in ``processing`` when the process stopped between the hold and the
answer. :func:`settle_pending_withdrawals` -- run periodically (:mod:`ewallet.funding.jobs`),
by ``ewallet withdrawals settle`` and by reconciliation -- asks the bank about each one with
its request id ``withdrawal:<id>``:

- ``succeeded``: the holds are posted (the money left the wallet);
- ``declined``: the holds are voided and the user told;
- ``not_found``: the request never reached the bank -- or is still on its way, so the
  money is only released once the withdrawal is older than ``grace``; a younger one stays
  pending for the next run. Releasing early could pay the money out twice: once to the
  card, once back to the spendable balance.

A query that fails leaves the withdrawal for the next run. Every step is idempotent.

A withdrawal a risk officer approved (:mod:`ewallet.funding.withdrawals.review`) is asked
for at the bank by the ``withdrawals.submit`` outbox handler
(:func:`submit_approved_withdrawal`), after the approval committed. Should that never
happen (the worker down for long), the settle job takes the ``processing`` withdrawal once
stale like any other, and its grace counts from the approval (``approved_at``), not from
the creation hours before: a request just sent is never released under the bank's feet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import structlog

from ewallet.funding.withdrawals import repository
from ewallet.funding.withdrawals.card_transfers import jobs as card_transfer_jobs
from ewallet.funding.withdrawals.review import SUBMIT_TOPIC
from ewallet.funding.withdrawals.service import ask_bank, fail_withdrawal, succeed_withdrawal
from ewallet.funding.withdrawals.views import WithdrawalView
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.kit.clock import as_utc
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, UpstreamUnavailableError
from ewallet.services import Services
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry

log = structlog.get_logger(__name__)

DEFAULT_GRACE: Final = timedelta(minutes=30)
DEFAULT_STALE_AFTER: Final = timedelta(minutes=5)


@dataclass(slots=True)
class WithdrawalSettleReport:
    """What one run did, by withdrawal id."""

    examined: int = 0
    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"succeeded": len(self.succeeded), "failed": len(self.failed)}


async def settle_pending_withdrawals(
    services: Services,
    *,
    limit: int = 200,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    grace: timedelta = DEFAULT_GRACE,
) -> WithdrawalSettleReport:
    """Finish open withdrawals from the bank's records; safe to repeat and to race."""
    now = services.clock.now()

    async def open_ones(uow: UnitOfWork) -> list[WithdrawalView]:
        conn = await uow.connection()
        return await repository.unsettled(conn, stale_before=now - stale_after, limit=limit)

    report = WithdrawalSettleReport()
    # Transfers to other people's cards are withdrawals too: settled in the same run.
    to_cards = await card_transfer_jobs.settle_pending_card_transfers(
        services, limit=limit, stale_after=stale_after, grace=grace
    )
    report.succeeded.extend(to_cards.succeeded)
    report.failed.extend(to_cards.failed)
    report.still_pending.extend(to_cards.still_pending)
    report.errors.extend(to_cards.errors)
    report.examined += to_cards.examined
    for withdrawal in await run_unit(services.engine, open_ones, read_only=True):
        report.examined += 1
        withdrawal_id = withdrawal.id
        try:
            answer = await services.bank.query(request_id=f"withdrawal:{withdrawal_id}")
        except DomainError as error:
            log.warning(
                "funding.withdrawal_query_failed", withdrawal_id=withdrawal_id, code=error.code
            )
            report.errors.append(withdrawal_id)
            continue
        if answer.status == "succeeded":
            await succeed_withdrawal(services, withdrawal_id, answer.bank_reference)
            report.succeeded.append(withdrawal_id)
        elif answer.status == "declined" or now - _sent_since(withdrawal) >= grace:
            await fail_withdrawal(services, withdrawal_id, answer.reason or answer.status)
            report.failed.append(withdrawal_id)
        else:
            report.still_pending.append(withdrawal_id)
    log.info(
        "funding.withdrawals_settled",
        examined=report.examined,
        succeeded=len(report.succeeded),
        failed=len(report.failed),
        pending=len(report.still_pending),
        errors=len(report.errors),
    )
    return report


def _sent_since(withdrawal: WithdrawalView) -> datetime:
    """When the bank may first have been asked: the approval for one held for review."""
    return as_utc(withdrawal.approved_at or withdrawal.created_at)


async def submit_approved_withdrawal(services: Services, withdrawal_id: str) -> str | None:
    """Ask the bank about a withdrawal a risk officer approved and finish it from the
    answer, exactly as a fresh withdrawal (:func:`~.service.ask_bank`); its status after,
    or None when there was nothing to do (finished already -- by an earlier delivery of
    the event or the settle job -- or never approved). Its card unbound since: failed,
    the money released, the bank not asked."""

    async def claim(uow: UnitOfWork) -> tuple[WithdrawalView, str | None] | None:
        conn = await uow.connection()
        now = services.clock.now()
        claimed = await repository.claim_submission(conn, withdrawal_id, now=now)
        if claimed is None:
            return None
        card = await repository.active_card(conn, user_id=claimed.user_id, card_id=claimed.card_id)
        token = None if card is None else card.agreement_token_encrypted
        return claimed, token

    found = await run_unit(services.engine, claim)
    if found is None:
        return None
    withdrawal, token = found
    if token is None:
        await fail_withdrawal(services, withdrawal_id, "card_not_active")
        return "failed"
    try:
        return (await ask_bank(services, withdrawal, token)).status
    except (BankDeclinedError, UpstreamUnavailableError) as refusal:
        # Recorded: the withdrawal failed, the money released and the owner told.
        log.info(
            "funding.approved_withdrawal_refused", withdrawal_id=withdrawal_id, code=refusal.code
        )
        return "failed"


def register(registry: HandlerRegistry, services: Services) -> None:
    """Add the ``withdrawals.submit`` handler (:func:`submit_approved_withdrawal`), and the
    card transfers' ``card_transfers.arrive`` (:mod:`.card_transfers.jobs`)."""
    card_transfer_jobs.register(registry, services)

    async def submit(event: DeliveredEvent) -> None:
        withdrawal_id = event.payload.get("withdrawal_id")
        if not isinstance(withdrawal_id, str):
            raise TypeError(f"{SUBMIT_TOPIC} event {event.id} lacks withdrawal_id")
        await submit_approved_withdrawal(services, withdrawal_id)

    registry.register(SUBMIT_TOPIC, submit)
