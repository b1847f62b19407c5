"""Settling card payments whose bank answer is unknown, by asking the bank, once each.

:func:`settle_pending_card_payments` runs with the funding settle job (the same interval,
:mod:`ewallet.funding.jobs`; the composition root passes it in) and asks the bank about
each ``pending`` card payment's debit by its request id (``topup:<top-up id>``; never a new
debit):

- ``succeeded``: :func:`~ewallet.payments.card_funding.service.complete` -- the wallet
  credited and the order paid in one unit (or, if the order can no longer be paid, the
  money kept in the wallet and the payer told);
- ``declined``, or ``not_found`` once older than ``grace`` (it may still be in flight
  before): :func:`~ewallet.payments.card_funding.service.release` -- nothing moved, the
  order free again, the payer told;
- anything else (the bank unreachable, a young ``not_found``): still pending.

Every step is a conditional ``UPDATE`` on the card payment plus idempotent ledger keys, so
any number of runs, racing or repeated, settle a payment once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import structlog

from ewallet.funding.topups.card.earmarked.service import earmarked_topup, query_bank
from ewallet.kit.clock import as_utc
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.payments.card_funding import repository
from ewallet.payments.card_funding.service import complete, release
from ewallet.payments.card_funding.views import PendingCardPayment
from ewallet.services import Services

log = structlog.get_logger(__name__)

DEFAULT_GRACE: Final = timedelta(minutes=30)
DEFAULT_BATCH: Final = 500


@dataclass(slots=True)
class CardPaymentSettleReport:
    """What one run did, by payment id."""

    examined: int = 0
    paid: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def settle_pending_card_payments(
    services: Services, *, grace: timedelta = DEFAULT_GRACE, limit: int = DEFAULT_BATCH
) -> CardPaymentSettleReport:
    """Ask the bank about every pending card payment (oldest ``limit``) and settle what it
    knows; safe to repeat and to race."""

    async def pending(uow: UnitOfWork) -> list[PendingCardPayment]:
        return await repository.pending_card_payments(await uow.connection(), limit=limit)

    report = CardPaymentSettleReport()
    for item in await run_unit(services.engine, pending, read_only=True):
        report.examined += 1
        try:
            await _settle_one(services, item, grace, report)
        except Exception:
            log.exception("payments.card_payment_settle_failed", payment_id=item.payment.id)
            report.errors.append(item.payment.id)
    log.info(
        "payments.card_payments_settled",
        examined=report.examined,
        paid=len(report.paid),
        kept=len(report.kept),
        released=len(report.released),
        pending=len(report.still_pending),
    )
    return report


async def _settle_one(
    services: Services, item: PendingCardPayment, grace: timedelta, report: CardPaymentSettleReport
) -> None:
    payment, bank_code = item.payment, item.bank_code
    answer = await query_bank(services, await earmarked_topup(services, payment.topup_id))
    if answer.outcome == "unavailable":
        report.errors.append(payment.id)
        return
    if answer.outcome == "succeeded":
        if answer.amount is not None and answer.amount != payment.card_part:
            # Never credit what the bank did not debit: leave it for reconciliation.
            log.error("payments.card_payment_amount_mismatch", payment_id=payment.id)
            report.errors.append(payment.id)
            return
        outcome = await complete(services, payment, bank_code=bank_code, answer=answer)
        if outcome == "succeeded":
            report.paid.append(payment.id)
        elif outcome == "kept":
            report.kept.append(payment.id)
        return
    too_old = services.clock.now() - as_utc(payment.created_at) >= grace
    if answer.outcome == "declined" or too_old:
        reason = (answer.reason or "declined") if answer.outcome == "declined" else "not_found"
        if await release(services, payment, bank_code=bank_code, reason=reason, notify=True):
            report.released.append(payment.id)
        return
    report.still_pending.append(payment.id)
