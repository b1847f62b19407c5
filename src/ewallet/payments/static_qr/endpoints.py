"""Static QR codes over HTTP (docs/static-qr.md).

- the merchant (``Authorization: Bearer mk_...``): ``GET /v1/merchant/static-qr`` (its own
  and its stores' codes), ``POST /v1/merchant/static-qr/{token}/regenerate``,
  ``GET /v1/merchant/static-qr/{token}.pdf`` (the printable sheet); another merchant's
  token is ``404 not_found``;
- the payer (a user token): ``GET /v1/static-qr/{token}`` (whom it pays) and
  ``POST /v1/payments/static-qr`` (``Idempotency-Key``, as ``POST /v1/payments``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.merchants.deps import CurrentMerchant
from ewallet.models.payments import PaymentStatus
from ewallet.payments.schemas import PaymentEnvelope, PaymentOut, PaymentUnderReviewOut
from ewallet.payments.static_qr import service
from ewallet.payments.static_qr.deps import MerchantWakeup
from ewallet.payments.static_qr.schemas import (
    RegenerateIn,
    StaticQrCodeEnvelope,
    StaticQrCodeList,
    StaticQrCodeOut,
    StaticQrPaymentIn,
    StaticQrTargetOut,
)
from ewallet.payments.static_qr.sheet import sheet_pdf

merchant_router = APIRouter(prefix="/v1/merchant/static-qr", tags=["merchant API"])
user_router = APIRouter(prefix="/v1", tags=["payments"])


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@merchant_router.get("", summary="The merchant's static QR codes: its own, then its stores'")
async def list_codes(merchant: CurrentMerchant, services: ServicesDep) -> StaticQrCodeList:
    codes = await service.list_codes(services, merchant_id=merchant.merchant_id)
    return StaticQrCodeList(items=[StaticQrCodeOut.of(c, services.settings) for c in codes])


@merchant_router.post(
    "/{token}/regenerate",
    status_code=201,
    summary="Replace a static QR code: the old one stops paying at once",
)
async def regenerate_code(
    token: str,
    body: RegenerateIn,
    merchant: CurrentMerchant,
    services: ServicesDep,
    request: Request,
) -> StaticQrCodeEnvelope:
    fixed = None if body.fixed_amount is None else parse_amount(body.fixed_amount)
    code = await service.regenerate_code(
        services,
        Actor("merchant", merchant.merchant_id, _client(request)),
        merchant_id=merchant.merchant_id,
        token=token,
        fixed_amount=fixed,
    )
    return StaticQrCodeEnvelope(code=StaticQrCodeOut.of(code, services.settings))


@merchant_router.get(
    "/{token}.pdf",
    summary="The printable sheet of a static QR code (PDF, A6 or A5)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def code_sheet(
    token: str,
    merchant: CurrentMerchant,
    services: ServicesDep,
    size: Literal["a6", "a5"] = "a6",
) -> Response:
    code = await service.printable_code(services, merchant_id=merchant.merchant_id, token=token)
    return Response(
        sheet_pdf(code, size=size),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="static-qr-{token[-6:]}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@user_router.get(
    "/static-qr/{token}",
    summary="Whom a scanned static QR code pays (merchant, store, fixed amount)",
    dependencies=[Authenticated],
)
async def read_target(token: str, services: ServicesDep) -> StaticQrTargetOut:
    target = await service.find_target(services, token=token)
    return StaticQrTargetOut.of(target)


@user_router.post(
    "/payments/static-qr",
    status_code=201,
    summary="Pay a merchant's static QR code: the amount typed (or the code's fixed one), "
    "with the payment password or password-free within the static-QR limits (202 "
    "under_review if risk control holds it, docs/risk-review.md)",
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": PaymentUnderReviewOut}},
)
async def pay_static_qr(
    *,
    body: StaticQrPaymentIn,
    user: CurrentUser,
    services: ServicesDep,
    request: Request,
    response: Response,
    request_key: RequestKeyDep,
    wakeup: MerchantWakeup,
    caller: CallerDep,
) -> PaymentUnderReviewOut | PaymentEnvelope:
    amount = None if body.amount is None else parse_amount(body.amount)
    payment = await service.pay_static_qr(
        services,
        Actor("user", user.user_id, _client(request)),
        user_id=user.user_id,
        token=body.token,
        amount=amount,
        payment_password=body.payment_password,
        request_key=request_key,
        caller=caller,
        device_id=user.device_id,
        challenge_id=body.challenge_id,
        announce=wakeup,
    )
    if payment.status == PaymentStatus.UNDER_REVIEW:  # held for a risk officer
        response.status_code = 202
        return PaymentUnderReviewOut.of(payment)
    return PaymentEnvelope(payment=PaymentOut.of(payment))
