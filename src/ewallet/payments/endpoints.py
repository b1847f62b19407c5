"""``/v1/payments``: a signed-in user pays a merchant order and reads their payments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import RequestKeyDep, idempotent_in_unit_unless
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.models.payments import PaymentStatus
from ewallet.payments.card_funding import service as card_funding
from ewallet.payments.card_funding.views import FundingChoice
from ewallet.payments.links import order_id_from_payload
from ewallet.payments.schemas import (
    PaymentEnvelope,
    PaymentIn,
    PaymentOut,
    PaymentPendingOut,
    PaymentUnderReviewOut,
)
from ewallet.payments.views import PaymentView

router = APIRouter(prefix="/v1", tags=["payments"])


def _card_funded(body: Any) -> bool:
    """Whether a payment's body may take money from a card (and so call the bank)."""
    if not isinstance(body, dict):
        return True
    funding = body.get("funding")
    return funding is not None and (
        not isinstance(funding, dict) or funding.get("source") != "balance"
    )


# A balance payment records its key in its money unit (docs/http.md, "Claimed in the unit");
# one a card may fund claims it first, since the bank is asked before the money unit.
IdempotentUnlessCard = idempotent_in_unit_unless(_card_funded)


@router.post(
    "/payments",
    status_code=201,
    summary="Pay a merchant order (by id or QR payload): with the payment password, or "
    "password-free within the cap the user chose (202 under_review if risk control holds "
    "it, docs/risk-review.md); from a bound card or the balance plus the card with "
    "`funding` (202 operation_pending while the bank's answer is unknown, "
    "docs/card-payments.md)",
    dependencies=[Authenticated, IdempotentUnlessCard],
    response_model=PaymentUnderReviewOut | PaymentPendingOut | PaymentEnvelope,
    responses={202: {"model": PaymentUnderReviewOut | PaymentPendingOut}},
)
async def create_payment(
    *,
    body: PaymentIn,
    user: CurrentUser,
    services: ServicesDep,
    request: Request,
    response: Response,
    request_key: RequestKeyDep,
    caller: CallerDep,
) -> PaymentUnderReviewOut | PaymentPendingOut | PaymentEnvelope | Response:
    order_id = body.order_id or order_id_from_payload(body.qr_payload or "")
    ip = request.client.host if request.client else None
    # A balance payment's unit records its answer with the key; it is sent as recorded.
    request_key.answer_with(_payment_answer)
    payment = await card_funding.pay_order_funded(
        services,
        Actor("user", user.user_id, ip),
        user_id=user.user_id,
        order_id=order_id,
        pin=body.payment_password,
        funding=FundingChoice() if body.funding is None else body.funding.choice(),
        caller=caller,
        device_id=user.device_id,
        challenge_id=body.challenge_id,
        request_key=request_key,  # a rerun of a request that paid answers its payment
    )
    if (recorded := request_key.recorded()) is not None:
        status, content = recorded
        return Response(content, status_code=status, media_type="application/json")
    if payment.status == PaymentStatus.UNDER_REVIEW:  # held for a risk officer
        response.status_code = 202
        return PaymentUnderReviewOut.of(payment)
    if payment.status == "pending":  # the bank's answer about the card is not known yet
        response.status_code = 202
        return PaymentPendingOut.of(payment)
    return PaymentEnvelope(payment=PaymentOut.of(payment))


def _payment_answer(payment: PaymentView) -> tuple[int, bytes]:
    """A balance payment's answer as its unit records it (never ``pending``: no card)."""
    if payment.status == PaymentStatus.UNDER_REVIEW:
        return 202, PaymentUnderReviewOut.of(payment).model_dump_json().encode()
    return 201, PaymentEnvelope(payment=PaymentOut.of(payment)).model_dump_json().encode()


@router.get("/payments/{payment_id}", summary="One of the caller's payments")
async def read_payment(
    payment_id: str, user: CurrentUser, services: ServicesDep
) -> PaymentEnvelope:
    payment = await card_funding.card_payment_view(services, user.user_id, payment_id=payment_id)
    return PaymentEnvelope(payment=PaymentOut.of(payment))
