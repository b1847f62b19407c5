"""Top-ups: read one, top up through a PSP, settle what the PSP notifies, exactly once.

Crediting is idempotent three ways: the top-up's status moves out of its unpaid states with a
conditional ``UPDATE`` (so of two racing notifications only one proceeds), the ledger entry
carries the key ``topup:<id>``, and both commit in one unit of work with the user's notice
(:func:`credit_topup`, shared with card top-ups, :mod:`ewallet.funding.topups.card.service`).

Before a PSP top-up is recorded (and its order opened), the risk decision runs on it
(event ``psp_topup``, :func:`ewallet.risk.decisions.decide_inflow`); a block records
nothing and answers ``risk_declined``.

Opening a PSP payment is safe to repeat: the PSP order's id is the top-up's id
(``out_trade_no``), and the same id again gives the same order. The top-up keeps the request
key of the request that made it (:mod:`ewallet.kit.request_key`), so a rerun of that request
reopens the same order instead of making a second top-up.

The PSPs' notifications (:func:`receive_alipay_notice`, :func:`receive_wechat_notice`) are
authenticated by signature. A notice that does not verify, or whose amount or currency is
not the top-up's, credits nothing and is audited (``psp.notify_rejected``); a notice for an
order that is none of our top-ups is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import structlog
from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor, record_event
from ewallet.funding.topups import repository
from ewallet.funding.topups.views import TopupView
from ewallet.identity.guards import ensure_not_frozen
from ewallet.integrations.psp import (
    PaymentNotice,
    PaymentStatus,
    PspName,
    SignatureInvalidError,
    StartedPayment,
)
from ewallet.integrations.psp.alipay import parse_form
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UpstreamUnavailableError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey, row_for_request
from ewallet.ledger import Transaction, TransactionKind, apply_command, chart, transfer
from ewallet.ledger import repository as ledger_repository
from ewallet.models.funding import TopupMethod, TopupStatus
from ewallet.models.tables import topups
from ewallet.notify.service import notify_user
from ewallet.risk.decisions import InflowEvent, InflowFacts, RiskSettings, decide_inflow
from ewallet.services import Services

log = structlog.get_logger(__name__)

SUBJECT: Final = "钱包充值"
# A succeeded payment is credited whatever we believed before (a start that timed out was
# marked failed, yet the payer may have paid): only an already credited top-up is skipped.
_UNCREDITED: Final = (
    TopupStatus.AWAITING_PAYMENT,
    TopupStatus.PENDING,
    TopupStatus.FAILED,
    TopupStatus.CLOSED,
)

_PSP_METHODS: Final[dict[str, PspName]] = {
    TopupMethod.ALIPAY: "alipay",
    TopupMethod.WECHAT_PAY: "wechat_pay",
}

Settled = Literal["credited", "already_credited", "recorded", "ignored"]


@dataclass(frozen=True, slots=True)
class StartedTopup:
    topup: TopupView
    payment: StartedPayment | None  # None once the top-up is no longer awaiting payment


@dataclass(frozen=True, slots=True)
class NoticeAnswer:
    """What to tell the PSP: accepted, or refused with the HTTP status and message WeChat
    Pay expects (Alipay only tells ``success`` from ``fail``)."""

    accepted: bool
    status_code: int = 200
    message: str = ""


# ------------------------------------------------------------------------------ reading


async def get_topup(services: Services, user_id: str, *, topup_id: str) -> TopupView:
    """The caller's top-up ``topup_id``; ``not_found`` for any other."""
    topup = await _read(services, topup_id, user_id=user_id)
    if topup is None:
        raise NotFoundError("no such top-up")
    return topup


async def find_topup(services: Services, topup_id: str) -> TopupView | None:
    """The top-up ``topup_id`` whoever owns it (jobs, reconciliation, notifications)."""
    return await _read(services, topup_id, user_id=None)


async def _read(services: Services, topup_id: str, *, user_id: str | None) -> TopupView | None:
    async def work(uow: UnitOfWork) -> TopupView | None:
        return await repository.load_topup(await uow.connection(), topup_id, user_id=user_id)

    return await run_unit(services.engine, work, read_only=True)


async def topup_for_request(
    services: Services, *, user_id: str, request_key: RequestKey | None
) -> TopupView | None:
    """The top-up an earlier run of the same request made, if any (a rerun answers it)."""
    row = await row_for_request(
        services.engine, topups, owner="user_id", owner_id=user_id, request_key=request_key
    )
    return None if row is None else TopupView.of(row)


# ------------------------------------------------------------------------------ PSP top-ups


async def start_psp_topup(
    services: Services,
    user_id: str,
    *,
    method: PspName,
    amount: Money,
    request_key: RequestKey | None = None,
) -> StartedTopup:
    """Record the top-up, then (outside any transaction) open its payment at the PSP.

    Refusals, in order: ``account_frozen`` and ``risk_declined`` (the risk decision, event
    ``psp_topup``: no top-up is recorded, no order opened), then the PSP's
    ``upstream_unavailable`` (the top-up is ``failed`` and lets go of the request key, so
    the client's retry starts a new one). A rerun of the same request (``request_key``)
    finds the top-up it made: still awaiting payment, the same order is opened again
    (same pay URL); otherwise it is answered as is.
    """
    topup = await topup_for_request(services, user_id=user_id, request_key=request_key)
    if topup is None:
        digest = None if request_key is None else request_key.digest
        try:
            topup = await _create(services, user_id, method=method, amount=amount, digest=digest)
        except IntegrityError:
            topup = await topup_for_request(services, user_id=user_id, request_key=request_key)
            if topup is None:
                raise
    if topup.status != TopupStatus.AWAITING_PAYMENT:
        return StartedTopup(topup=topup, payment=None)
    if request_key is not None:
        request_key.effect_possible()  # an order may exist at the PSP from here on
    try:
        payment = await services.psp.start_payment(
            method=method, out_trade_no=topup.id, amount=amount, subject=SUBJECT
        )
    except UpstreamUnavailableError as error:
        await _fail_unstarted(services, topup.id, reason=f"{error.code}: {error}")
        if request_key is not None:
            request_key.nothing_happened()  # the client's retry starts a new top-up
        raise
    return StartedTopup(topup=topup, payment=payment)


async def resume_psp_topup(services: Services, user_id: str, *, topup_id: str) -> StartedTopup:
    """The caller's top-up ``topup_id`` and, while it is a PSP top-up still awaiting
    payment, where to pay it: its order opened again at the PSP (the ``out_trade_no`` is the
    top-up's id, so the PSP answers the same order and pay URL; nothing new is created).

    ``not_found`` for another user's top-up. A PSP that cannot be reached now changes
    nothing here: the top-up is answered without its payment (the web page says so and
    offers to try again), since the order may well exist and be paid meanwhile.
    """
    topup = await get_topup(services, user_id, topup_id=topup_id)
    psp = _PSP_METHODS.get(topup.method)
    if topup.status != TopupStatus.AWAITING_PAYMENT or psp is None:
        return StartedTopup(topup=topup, payment=None)
    try:
        payment = await services.psp.start_payment(
            method=psp, out_trade_no=topup.id, amount=topup.amount, subject=SUBJECT
        )
    except UpstreamUnavailableError:
        log.warning("funding.psp_reopen_failed", topup_id=topup.id, psp=psp)
        return StartedTopup(topup=topup, payment=None)
    return StartedTopup(topup=topup, payment=payment)


async def _create(
    services: Services, user_id: str, *, method: PspName, amount: Money, digest: str | None
) -> TopupView:
    """Insert an ``awaiting_payment`` top-up in its own unit, after the risk decision; a
    frozen account gets none, nor does one risk control blocks (``risk_declined``)."""
    topup_id = new_id("top")
    settings = RiskSettings.from_settings(services.settings)

    async def work(uow: UnitOfWork) -> TopupView:
        conn = await uow.connection()
        await ensure_not_frozen(conn, user_id=user_id)
        facts = InflowFacts(
            user_id=user_id,
            amount=amount,
            event=InflowEvent.PSP_TOPUP,
            reference=f"topup:{topup_id}",
        )
        await decide_inflow(uow, facts, now=services.clock.now(), settings=settings)
        return await repository.insert_topup(
            conn,
            topup_id=topup_id,
            user_id=user_id,
            method=TopupMethod(method),
            card_id=None,
            amount=amount,
            status=TopupStatus.AWAITING_PAYMENT,
            request_key=digest,
            now=services.clock.now(),
        )

    return await run_unit(services.engine, work)


async def _fail_unstarted(services: Services, topup_id: str, *, reason: str) -> None:
    """Fail a top-up still awaiting payment and drop its request key (a later ``succeeded``
    notice still credits it)."""

    async def work(uow: UnitOfWork) -> None:
        await repository.fail_topup(
            await uow.connection(),
            topup_id,
            from_statuses=(TopupStatus.AWAITING_PAYMENT,),
            reason=reason,
            now=services.clock.now(),
            forget_request=True,
        )

    await run_unit(services.engine, work)


async def settle_notice(services: Services, *, topup: TopupView, notice: PaymentNotice) -> Settled:
    """Apply a verified notice whose amount matched ``topup``; safe to repeat and to race.

    ``succeeded`` credits the wallet once; ``closed``/``failed`` close a top-up still
    awaiting payment; anything else (pending, refunded) changes nothing.
    """
    if notice.status is PaymentStatus.SUCCEEDED:
        return await _credit_psp(services, topup=topup, notice=notice)
    if notice.status in (PaymentStatus.CLOSED, PaymentStatus.FAILED):
        status = TopupStatus(notice.status.value)

        async def close(uow: UnitOfWork) -> None:
            conn = await uow.connection()
            await repository.close_awaiting(conn, topup.id, status=status, now=services.clock.now())

        await run_unit(services.engine, close)
        return "recorded"
    return "ignored"  # pending: keep waiting; refunded: not a top-up matter


async def _credit_psp(services: Services, *, topup: TopupView, notice: PaymentNotice) -> Settled:
    # Opened (idempotently) before the unit: both are needed by every credit.
    ledger = services.ledger
    clearing = await chart.open_account(ledger, chart.psp_clearing(notice.psp, notice.currency))
    await chart.open_account(ledger, chart.wallet(topup.user_id, notice.currency))

    async def work(uow: UnitOfWork) -> Settled:
        credited = await credit_topup(
            uow,
            clock=services.clock,
            topup=topup,
            source_account_id=clearing.id,
            creditable=_UNCREDITED,
            provider_reference=notice.trade_no,
            metadata={"psp": notice.psp},
        )
        return "credited" if credited else "already_credited"

    settled = await run_unit(services.engine, work)
    log.info("funding.topup_settled", topup_id=topup.id, psp=notice.psp, outcome=settled)
    return settled


# ------------------------------------------------------------------------------ notifications


class _UnknownOrderError(Exception):
    """A verified notice for an ``out_trade_no`` that is none of our top-ups."""


async def receive_alipay_notice(services: Services, body: bytes) -> NoticeAnswer:
    """Alipay's asynchronous notification (a URL-encoded form): verify, match, settle.

    Refused, in order: a body that is no form or does not verify, or a wrong amount
    (audited ``psp.notify_rejected``); an order that is none of our top-ups.
    """
    claimed: str | None = None
    try:
        try:
            form = parse_form(body)
        except ValueError as error:  # bad percent-encoding
            raise SignatureInvalidError("form body is not URL-encoded") from error
        claimed = form.get("out_trade_no")
        notice = services.psp.verify_alipay_notify(form)
        await _apply(services, notice)
    except SignatureInvalidError as error:
        await _audit_rejected(services, psp="alipay", reason=str(error), out_trade_no=claimed)
        return NoticeAnswer(accepted=False)
    except _UnknownOrderError:
        return NoticeAnswer(accepted=False)
    return NoticeAnswer(accepted=True)


async def receive_wechat_notice(
    services: Services, headers: Mapping[str, str], body: bytes
) -> NoticeAnswer:
    """WeChat Pay's asynchronous notification: verify, match, settle.

    Refused, in order: ``401 signature_invalid`` (audited), ``400 amount_mismatch``
    (audited), ``404 order_not_found``.
    """
    try:
        notice = services.psp.verify_wechat_notify(headers, body)
    except SignatureInvalidError as error:
        await _audit_rejected(services, psp="wechat_pay", reason=str(error), out_trade_no=None)
        return NoticeAnswer(accepted=False, status_code=401, message="signature_invalid")
    try:
        await _apply(services, notice)
    except SignatureInvalidError as error:
        await _audit_rejected(
            services, psp="wechat_pay", reason=str(error), out_trade_no=notice.out_trade_no
        )
        return NoticeAnswer(accepted=False, status_code=400, message="amount_mismatch")
    except _UnknownOrderError:
        return NoticeAnswer(accepted=False, status_code=404, message="order_not_found")
    return NoticeAnswer(accepted=True)


async def _apply(services: Services, notice: PaymentNotice) -> None:
    """Match the notice to its top-up and settle it; SignatureInvalidError on a wrong amount."""
    topup = await find_topup(services, notice.out_trade_no)
    if topup is None or topup.method != notice.psp:
        raise _UnknownOrderError(notice.out_trade_no)
    notice.ensure_amount(topup.amount)
    await settle_notice(services, topup=topup, notice=notice)


async def _audit_rejected(
    services: Services, *, psp: PspName, reason: str, out_trade_no: str | None
) -> None:
    """``psp.notify_rejected``: a notification we refused (bad signature, wrong amount)."""

    async def work(uow: UnitOfWork) -> None:
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=Actor.system(),
            action="psp.notify_rejected",
            subject_type="topup" if out_trade_no else None,
            subject_id=out_trade_no[:64] if out_trade_no else None,
            details={"psp": psp, "reason": reason[:300]},
        )

    await run_unit(services.engine, work)


# ------------------------------------------------------------------------------ crediting


async def credit_topup(
    uow: UnitOfWork,
    *,
    clock: Clock,
    topup: TopupView,
    source_account_id: int,
    creditable: tuple[TopupStatus, ...],
    provider_reference: str | None,
    metadata: dict[str, Any],
    notify: bool = True,
) -> bool:
    """Mark the top-up succeeded and credit the wallet, once, in the caller's unit of work.

    The conditional status update claims the top-up (a concurrent settler finds it taken
    and answers False); the ledger key ``topup:<id>`` makes a second credit impossible
    even so. The owner gets an in-app notice unless ``notify`` is off (a top-up that funds
    a card payment: the payment's own notice tells them). The wallet account must already
    be open.
    """
    conn = await uow.connection()
    claimed = await repository.claim_succeeded(
        conn,
        topup.id,
        creditable=creditable,
        provider_reference=provider_reference,
        now=clock.now(),
    )
    if not claimed:
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
    await repository.set_ledger_transaction(conn, topup.id, outcome.id)
    if not notify:
        return True
    await notify_user(
        uow.session,
        clock=clock,
        user=await repository.owner(uow, topup.user_id),
        kind="topup_succeeded",
        params={"amount": topup.amount.to_decimal_string(), "currency": topup.amount.currency},
        sms=False,
        security=False,
    )
    return True
