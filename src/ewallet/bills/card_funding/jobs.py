"""Settling card-funded bill payments whose bank answer is unknown, by asking the bank once
each (docs/bills.md, "Paying with a card").

:func:`settle_pending_bill_card_payments` runs with the funding settle job (the same
interval, :mod:`ewallet.funding.jobs`; the composition root passes it in, as it passes the
orders' card payments job) and asks the bank about each bill payment whose card part is
``pending`` by its request id (``topup:<top-up id>``; never a new debit):

- ``succeeded``: :func:`~ewallet.bills.card_funding.service.complete` -- the wallet
  credited and the bill paid from it in one unit -- then the biller is told
  (:func:`~ewallet.bills.delivery.deliver_payment`; its queued event retries it);
- ``declined``, or ``not_found`` once older than ``grace`` (it may still be in flight
  before): :func:`~ewallet.bills.card_funding.service.release` -- nothing moved, the
  payment ``rejected``, the payer told (``bill_card_declined``);
- anything else (the bank unreachable, a young ``not_found``): still pending.

The top-ups' own settle job skips these top-ups, and the orders' card payments job never
sees them. Every step is a conditional update plus idempotent ledger keys, so any number
of runs, racing or repeated, settle a payment once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import structlog

from ewallet.bills.card_funding import repository
from ewallet.bills.card_funding.repository import AwaitingBill
from ewallet.bills.card_funding.service import complete, release
from ewallet.bills.delivery import deliver_payment
from ewallet.funding.topups.card.earmarked.service import earmarked_topup, query_bank
from ewallet.kit.clock import as_utc
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.services import Services

log = structlog.get_logger(__name__)

DEFAULT_GRACE: Final = timedelta(minutes=30)
DEFAULT_BATCH: Final = 500


@dataclass(slots=True)
class BillCardSettleReport:
    """What one run did, by bill payment id."""

    examined: int = 0
    paid: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def settle_pending_bill_card_payments(
    services: Services, *, grace: timedelta = DEFAULT_GRACE, limit: int = DEFAULT_BATCH
) -> BillCardSettleReport:
    """Ask the bank about every bill payment whose card part is pending (oldest ``limit``)
    and settle what it knows; safe to repeat and to race."""

    async def awaiting(uow: UnitOfWork) -> list[AwaitingBill]:
        return await repository.awaiting_bills(await uow.connection(), limit=limit)

    report = BillCardSettleReport()
    for item in await run_unit(services.engine, awaiting, read_only=True):
        report.examined += 1
        try:
            await _settle_one(services, item, grace, report)
        except Exception:
            log.exception("bills.card_payment_settle_failed", bill_payment_id=item.payment.id)
            report.errors.append(item.payment.id)
    log.info(
        "bills.card_payments_settled",
        examined=report.examined,
        paid=len(report.paid),
        released=len(report.released),
        pending=len(report.still_pending),
    )
    return report


async def _settle_one(
    services: Services, item: AwaitingBill, grace: timedelta, report: BillCardSettleReport
) -> None:
    payment, bank_code = item.payment, item.bank_code
    assert payment.card_topup_id is not None
    answer = await query_bank(services, await earmarked_topup(services, payment.card_topup_id))
    if answer.outcome == "unavailable":
        report.errors.append(payment.id)
        return
    if answer.outcome == "succeeded":
        if answer.amount is not None and answer.amount != payment.card_part:
            # Never credit what the bank did not debit: leave it for reconciliation.
            log.error("bills.card_payment_amount_mismatch", bill_payment_id=payment.id)
            report.errors.append(payment.id)
            return
        if await complete(services, payment, bank_code=bank_code, answer=answer) == "succeeded":
            report.paid.append(payment.id)
            try:
                await deliver_payment(services, payment.id)
            except Exception:  # its queued bills.deliver event tells the biller later
                log.exception("bills.delivery_failed", bill_payment_id=payment.id)
        return
    too_old = services.clock.now() - as_utc(payment.created_at) >= grace
    if answer.outcome == "declined" or too_old:
        reason = (answer.reason or "declined") if answer.outcome == "declined" else "not_found"
        if await release(services, payment, bank_code=bank_code, reason=reason, notify=True):
            report.released.append(payment.id)
        return
    report.still_pending.append(payment.id)
