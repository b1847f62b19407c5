"""Refunds by the merchant's people, on top of the merchant refund use case
(:func:`ewallet.payments.refunds.service.refund_order`): the same money movement, fee
share, webhook and payer notice; these add who may and how they prove it.

- :func:`refund_as_member`: an owner or manager (``REFUNDING``) refunds an order of their
  own merchant; above ``merchant_refund_totp_above_minor`` fen they confirm it with their
  authenticator's code (each try counted against their sign-in lock, a code used once).
- :func:`refund_with_approval`: anyone at the till (a cashier) refunds with an owner or
  manager of the SAME merchant typing their email, password and code
  (:func:`ewallet.merchants.people.service.verify_approver`: wrong credentials count
  against the approver's lock; another merchant's person is refused like an unknown email;
  a cashier cannot approve).

Every refusal happens before the refund unit runs, so a refused refund leaves no refund, no
ledger entry and no webhook (the failed try is audited). A made refund is audited
(``refund.created_by_member``) naming the person, and the approver where there is one.
"""

from __future__ import annotations

from typing import Any

from ewallet.audit.service import record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ForbiddenError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.kit.pagination import MAX_LIMIT
from ewallet.merchants.people import service as people
from ewallet.merchants.people.permissions import ANY_MEMBER, REFUNDING, SALES_READING
from ewallet.merchants.people.views import PortalUser
from ewallet.payments.orders.service import get_order
from ewallet.payments.portal_refunds.views import MemberRefund, OrderDetail
from ewallet.payments.refunds.service import list_refunds, refund_order
from ewallet.payments.views import RefundFilter
from ewallet.payments.webhooks.service import list_deliveries
from ewallet.services import Services

MAX_OUT_REFUND_NO = 64


def needs_code(services: Services, amount: Money) -> bool:
    """Whether a portal refund of ``amount`` asks the authenticator's code."""
    return amount.minor > services.settings.merchant_refund_totp_above_minor


def _check(amount: Money, out_refund_no: str) -> None:
    if amount.minor <= 0:
        raise ValidationFailedError("the refund must be more than zero", field="amount")
    if not 1 <= len(out_refund_no) <= MAX_OUT_REFUND_NO:
        raise ValidationFailedError("a refund number of 1-64 characters", field="out_refund_no")


async def refund_as_member(
    services: Services,
    member: PortalUser,
    *,
    order_id: str,
    amount: Money,
    totp_code: str | None,
    out_refund_no: str,
) -> MemberRefund:
    """An owner or manager refunds ``amount`` of their merchant's order ``order_id``.

    Refusals in order, nothing written but the audit of a failed code: ``403 forbidden``
    (a role without ``REFUNDING``), ``422 validation_error`` (amount, number), ``400
    totp_invalid`` (above the threshold without the right code), then the refund's own:
    ``404 not_found`` (another merchant's order), ``order_not_refundable``,
    ``out_refund_no_conflict``, ``refund_exceeds_payment``."""
    if not REFUNDING.allows(member.role):
        raise ForbiddenError("your role does not allow refunds")
    _check(amount, out_refund_no)
    if needs_code(services, amount):
        await people.confirm_with_code(services, member, code=totp_code or "", purpose="refund")
    refund, order, created = await refund_order(
        services,
        member.merchant_id,
        order_id=order_id,
        amount=amount,
        out_refund_no=out_refund_no,
    )
    if created:
        await _audit(services, member, refund.id, {"order_id": order_id})
    return MemberRefund(refund=refund, order=order, created=created, approver_id=None)


async def refund_with_approval(
    services: Services,
    cashier: PortalUser,
    *,
    order_id: str,
    amount: Money,
    approver_email: str,
    approver_password: str,
    approver_totp: str,
    out_refund_no: str,
) -> MemberRefund:
    """Someone at the till refunds ``amount`` of their merchant's order with an owner's or
    manager's approval typed on the spot.

    Refusals in order, nothing written but the audit of the failed approval: ``422
    validation_error``; the approver's (``429 too_many_attempts``, ``401
    invalid_credentials`` -- counted against the approver's lock -- ``403 forbidden`` for a
    cashier or disabled approver); then the refund's own (``404`` another merchant's order,
    ...). The audit event names the cashier (actor) and the approver."""
    if not ANY_MEMBER.allows(cashier.role):
        raise ForbiddenError("your role does not allow this")
    _check(amount, out_refund_no)
    approver = await people.verify_approver(
        services,
        cashier,
        email=approver_email,
        password=approver_password,
        totp_code=approver_totp,
        purpose="refund",
    )
    refund, order, created = await refund_order(
        services,
        cashier.merchant_id,
        order_id=order_id,
        amount=amount,
        out_refund_no=out_refund_no,
    )
    if created:
        await _audit(
            services, cashier, refund.id, {"order_id": order_id, "approved_by": approver.id}
        )
    return MemberRefund(refund=refund, order=order, created=created, approver_id=approver.id)


async def _audit(
    services: Services, member: PortalUser, refund_id: str, details: dict[str, Any]
) -> None:
    async def work(uow: UnitOfWork) -> None:
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=member.actor(),
            action="refund.created_by_member",
            subject_type="refund",
            subject_id=refund_id,
            details={"merchant_id": member.merchant_id, "member": member.user_id, **details},
        )

    await run_unit(services.engine, work)


async def order_detail(services: Services, member: PortalUser, *, order_id: str) -> OrderDetail:
    """The order page: an order of the person's own merchant (another's is ``404``), its
    refunds and the webhook deliveries of its events (newest first, the latest page)."""
    if not SALES_READING.allows(member.role):
        raise ForbiddenError("your role does not allow this")
    order = await get_order(services, member.merchant_id, order_id=order_id)
    refunds = await list_refunds(
        services, member.merchant_id, wanted=RefundFilter(order_id=order_id), limit=MAX_LIMIT
    )
    deliveries = await list_deliveries(
        services, member.merchant_id, order_id=order_id, limit=MAX_LIMIT, cursor=None
    )
    currency = order.amount.currency
    refundable = order.amount - order.refunded if order.paid_at is not None else Money(0, currency)
    return OrderDetail(
        order=order,
        refunds=refunds.items,
        deliveries=deliveries.items,
        refundable=refundable,
        code_above=Money(services.settings.merchant_refund_totp_above_minor, currency),
    )
