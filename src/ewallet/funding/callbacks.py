"""PSP notifications: ``POST /v1/callbacks/alipay`` and ``POST /v1/callbacks/wechat-pay``.

Public routes: the PSP authenticates by signature. Each answers exactly what its PSP expects
(docs/psp.md), never problem+json: Alipay ``200 success`` / ``200 fail``; WeChat Pay ``204``
or a 4xx/5xx ``{"code": "FAIL", "message": ...}``. A notice that does not verify, or whose
amount or currency is not the top-up's, credits nothing and is audited
(``psp.notify_rejected``). A notice for an order we do not know is refused too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.funding.endpoints import PspDep
from ewallet.funding.psp_topups import audit_rejected, settle_notice
from ewallet.funding.service import find_topup
from ewallet.http.deps import ClockDep, EngineDep, LedgerDep
from ewallet.integrations.psp import (
    PaymentNotice,
    PspName,
    SignatureInvalidError,
    alipay_ack,
    wechat_ack,
)
from ewallet.integrations.psp.alipay import parse_form
from ewallet.kit.clock import Clock
from ewallet.ledger import Ledger

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"], include_in_schema=False)


class UnknownOrderError(Exception):
    """A verified notice for an ``out_trade_no`` that is none of our top-ups."""


async def _apply(engine: AsyncEngine, ledger: Ledger, clock: Clock, notice: PaymentNotice) -> None:
    """Match the notice to its top-up and settle it; SignatureInvalidError on a wrong amount."""
    topup = await find_topup(engine, notice.out_trade_no)
    if topup is None or topup.method != notice.psp:
        raise UnknownOrderError(notice.out_trade_no)
    notice.ensure_amount(topup.amount)
    await settle_notice(engine, ledger, clock=clock, topup=topup, notice=notice)


async def _refuse(
    engine: AsyncEngine, clock: Clock, psp: PspName, error: Exception, out_trade_no: str | None
) -> None:
    await audit_rejected(engine, clock=clock, psp=psp, reason=str(error), out_trade_no=out_trade_no)


@router.post("/alipay", summary="Alipay's asynchronous payment notification")
async def alipay_callback(
    request: Request, engine: EngineDep, ledger: LedgerDep, clock: ClockDep, psp: PspDep
) -> Response:
    claimed: str | None = None
    try:
        try:
            form = parse_form(await request.body())
        except ValueError as error:  # bad percent-encoding
            raise SignatureInvalidError("form body is not URL-encoded") from error
        claimed = form.get("out_trade_no")
        notice = psp.verify_alipay_notify(form)
        await _apply(engine, ledger, clock, notice)
    except SignatureInvalidError as error:
        await _refuse(engine, clock, "alipay", error, claimed)
        return alipay_ack(accepted=False)
    except UnknownOrderError:
        return alipay_ack(accepted=False)
    return alipay_ack(accepted=True)


@router.post("/wechat-pay", summary="WeChat Pay's asynchronous payment notification")
async def wechat_pay_callback(
    request: Request, engine: EngineDep, ledger: LedgerDep, clock: ClockDep, psp: PspDep
) -> Response:
    body = await request.body()
    try:
        notice = psp.verify_wechat_notify(request.headers, body)
    except SignatureInvalidError as error:
        await _refuse(engine, clock, "wechat_pay", error, None)
        return wechat_ack(accepted=False, status_code=401, message="signature_invalid")
    try:
        await _apply(engine, ledger, clock, notice)
    except SignatureInvalidError as error:
        await _refuse(engine, clock, "wechat_pay", error, notice.out_trade_no)
        return wechat_ack(accepted=False, status_code=400, message="amount_mismatch")
    except UnknownOrderError:
        return wechat_ack(accepted=False, status_code=404, message="order_not_found")
    return wechat_ack(accepted=True)
