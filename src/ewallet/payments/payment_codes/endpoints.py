"""The payment code: the user shows it (``/v1/me/payment-code``), a merchant charges it
(``/v1/merchant/charges``), the user confirms a charge above the no-PIN limit."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, IdempotentInUnit, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.merchants.deps import CurrentMerchantInUnit, MerchantIdentified
from ewallet.payments.payment_codes.schemas import (
    ChargeEnvelope,
    ChargeIn,
    ChargeOut,
    CodeFundingIn,
    CodeFundingOut,
    ConfirmationIn,
    PaymentCodeOut,
)
from ewallet.payments.payment_codes.service import charges, codes, confirmations, funding
from ewallet.payments.payment_codes.views import ChargeView
from ewallet.payments.schemas import (
    PaymentEnvelope,
    PaymentOut,
    PaymentPendingOut,
    parse_amount,
)

user_router = APIRouter(prefix="/v1/me", tags=["payment code"])
merchant_router = APIRouter(prefix="/v1/merchant", tags=["merchant API"])


@user_router.get(
    "/payment-code", summary="The payment code to show the cashier now (digits and QR image)"
)
async def get_payment_code(user: CurrentUser, services: ServicesDep) -> PaymentCodeOut:
    return PaymentCodeOut.of(await codes.issue_code(services, user.user_id))


@user_router.get(
    "/payment-code/funding",
    summary="Where payment-code charges take the money from: balance_first or a card",
)
async def get_code_funding(user: CurrentUser, services: ServicesDep) -> CodeFundingOut:
    return CodeFundingOut.of(await funding.get_funding(services, user.user_id))


@user_router.put(
    "/payment-code/funding",
    summary="Set the payment code's source: balance_first (the balance, then a card for the "
    "rest) or card (all from card_id); docs/payment-code.md",
    dependencies=[Authenticated],
)
async def put_code_funding(
    body: CodeFundingIn, user: CurrentUser, services: ServicesDep, request: Request
) -> CodeFundingOut:
    ip = request.client.host if request.client else None
    chosen = await funding.set_funding(
        services,
        Actor("user", user.user_id, ip),
        user_id=user.user_id,
        source=body.source,
        card_id=body.card_id,
    )
    return CodeFundingOut.of(chosen)


@user_router.post(
    "/payment-code/confirmations/{challenge_id}",
    status_code=201,
    summary="Confirm a payment-code charge above the no-PIN limit, or one a card funds, with "
    "the payment password (202 operation_pending while the bank's answer is unknown)",
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": PaymentPendingOut}},
)
async def confirm_charge(
    *,
    challenge_id: str,
    body: ConfirmationIn,
    user: CurrentUser,
    services: ServicesDep,
    request: Request,
    response: Response,
    request_key: RequestKeyDep,
) -> PaymentEnvelope | PaymentPendingOut:
    ip = request.client.host if request.client else None
    payment = await confirmations.confirm(
        services,
        Actor("user", user.user_id, ip),
        user_id=user.user_id,
        challenge_id=challenge_id,
        pin=body.payment_password,
        request_key=request_key,  # a rerun of a confirmation that paid answers its payment
    )
    if payment.status == "pending":  # a card debit whose answer the bank has not given
        response.status_code = 202
        return PaymentPendingOut.of(payment)
    return PaymentEnvelope(payment=PaymentOut.of(payment))


@merchant_router.post(
    "/charges",
    status_code=201,
    summary="Charge a customer's scanned payment code (the same out_trade_no again: 200)",
    dependencies=[MerchantIdentified, IdempotentInUnit],
    response_model=ChargeEnvelope,
    responses={
        200: {"model": ChargeEnvelope, "description": "this charge was made before"},
        401: {"description": "step_up_required: the customer confirms it in the app"},
    },
)
async def create_charge(
    body: ChargeIn,
    merchant: CurrentMerchantInUnit,
    services: ServicesDep,
    response: Response,
    request_key: RequestKeyDep,
) -> ChargeEnvelope | Response:
    request = charges.ChargeRequest(
        payment_code=body.payment_code,
        amount=parse_amount(body.amount, body.currency),
        out_trade_no=body.out_trade_no,
        subject=body.subject or charges.DEFAULT_SUBJECT,
        terminal_id=body.terminal_id,
    )
    # The common charge records its answer with its key in its own unit of work; it is sent
    # as recorded (serialised once). Other answers are serialised and stored as usual.
    request_key.answer_with(_charge_answer)
    view, created = await charges.charge(
        services, merchant, request=request, request_key=request_key
    )
    if (recorded := request_key.recorded()) is not None:
        status, content = recorded
        return Response(content, status_code=status, media_type="application/json")
    if not created:
        response.status_code = 200
    return ChargeEnvelope(charge=ChargeOut.of(view))


def _charge_answer(result: tuple[ChargeView, bool]) -> tuple[int, bytes]:
    view, created = result
    body = ChargeEnvelope(charge=ChargeOut.of(view)).model_dump_json().encode()
    return (201 if created else 200), body
