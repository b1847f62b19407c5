"""Top-ups through a PSP: open the payment, then settle what the PSP notifies, exactly once.

Crediting is idempotent three ways: the top-up's status moves out of its unpaid states with a
conditional ``UPDATE`` (so of two racing notifications only one proceeds), the ledger entry
carries the key ``topup:<id>``, and both commit in one unit of work with the user's notice.

Opening the payment is safe to repeat: the PSP order's id is the top-up's id
(``out_trade_no``), and the same id again gives the same order. The top-up keeps the request
key of the request that made it (:mod:`ewallet.kit.request_key`), so a rerun of that request
reopens the same order instead of making a second top-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import structlog
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.funding.service import (
    TopupView,
    create_topup,
    credit_topup,
    mark_failed,
    topup_for_request,
)
from ewallet.integrations.psp import (
    PaymentNotice,
    PaymentStatus,
    PspChannels,
    PspName,
    StartedPayment,
)
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import UpstreamUnavailableError
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import Ledger, chart
from ewallet.models.tables import topups

log = structlog.get_logger(__name__)

SUBJECT: Final = "钱包充值"
# A succeeded payment is credited whatever we believed before (a start that timed out was
# marked failed, yet the payer may have paid): only an already credited top-up is skipped.
_UNCREDITED: Final = ("awaiting_payment", "pending", "failed", "closed")

Settled = Literal["credited", "already_credited", "recorded", "ignored"]


@dataclass(frozen=True, slots=True)
class StartedTopup:
    topup: TopupView
    payment: StartedPayment | None  # None once the top-up is no longer awaiting payment


async def start_psp_topup(
    engine: AsyncEngine,
    psp: PspChannels,
    *,
    clock: Clock,
    user_id: str,
    method: PspName,
    amount: Money,
    request_key: RequestKey | None = None,
) -> StartedTopup:
    """Record the top-up, then (outside any transaction) open its payment at the PSP.

    A rerun of the same request (``request_key``) finds the top-up it made: still awaiting
    payment, the same order is opened again (same pay URL); otherwise it is answered as is.
    """
    topup = await topup_for_request(engine, user_id=user_id, request_key=request_key)
    if topup is None:
        digest = None if request_key is None else request_key.digest
        try:
            topup = await create_topup(
                engine,
                clock=clock,
                user_id=user_id,
                method=method,
                amount=amount,
                request_key=digest,
            )
        except IntegrityError:
            topup = await topup_for_request(engine, user_id=user_id, request_key=request_key)
            if topup is None:
                raise
    if topup.status != "awaiting_payment":
        return StartedTopup(topup=topup, payment=None)
    if request_key is not None:
        request_key.effect_possible()  # an order may exist at the PSP from here on
    try:
        payment = await psp.start_payment(
            method=method, out_trade_no=topup.id, amount=amount, subject=SUBJECT
        )
    except UpstreamUnavailableError as error:
        reason = f"{error.code}: {error}"
        await mark_failed(
            engine, clock=clock, topup_id=topup.id, reason=reason, forget_request=True
        )
        if request_key is not None:
            request_key.nothing_happened()  # the client's retry starts a new top-up
        raise
    return StartedTopup(topup=topup, payment=payment)


async def settle_notice(
    engine: AsyncEngine,
    ledger: Ledger,
    *,
    clock: Clock,
    topup: TopupView,
    notice: PaymentNotice,
) -> Settled:
    """Apply a verified notice whose amount matched ``topup``; safe to repeat and to race."""
    if notice.status is PaymentStatus.SUCCEEDED:
        return await _credit(engine, ledger, clock=clock, topup=topup, notice=notice)
    if notice.status in (PaymentStatus.CLOSED, PaymentStatus.FAILED):
        await _close(engine, clock=clock, topup=topup, status=notice.status.value)
        return "recorded"
    return "ignored"  # pending: keep waiting; refunded: not a top-up matter


async def _credit(
    engine: AsyncEngine,
    ledger: Ledger,
    *,
    clock: Clock,
    topup: TopupView,
    notice: PaymentNotice,
) -> Settled:
    # Opened (idempotently) before the unit: both are needed by every credit.
    clearing = await chart.open_account(ledger, chart.psp_clearing(notice.psp, notice.currency))
    await chart.open_account(ledger, chart.wallet(topup.user_id, notice.currency))

    async def work(uow: UnitOfWork) -> Settled:
        credited = await credit_topup(
            uow,
            clock=clock,
            topup=topup,
            source_account_id=clearing.id,
            creditable=_UNCREDITED,
            provider_reference=notice.trade_no,
            metadata={"psp": notice.psp},
        )
        return "credited" if credited else "already_credited"

    settled = await run_unit(engine, work)
    log.info("funding.topup_settled", topup_id=topup.id, psp=notice.psp, outcome=settled)
    return settled


async def _close(engine: AsyncEngine, *, clock: Clock, topup: TopupView, status: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        now = clock.now()
        await conn.execute(
            update(topups)
            .where(topups.c.id == topup.id, topups.c.status == "awaiting_payment")
            .values(status=status, updated_at=now, completed_at=now)
        )

    await run_unit(engine, work)


async def audit_rejected(
    engine: AsyncEngine,
    *,
    clock: Clock,
    psp: PspName,
    reason: str,
    out_trade_no: str | None,
) -> None:
    """``psp.notify_rejected``: a notification we refused (bad signature, wrong amount)."""

    async def work(uow: UnitOfWork) -> None:
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=Actor.system(),
            action="psp.notify_rejected",
            subject_type="topup" if out_trade_no else None,
            subject_id=out_trade_no[:64] if out_trade_no else None,
            details={"psp": psp, "reason": reason[:300]},
        )

    await run_unit(engine, work)
