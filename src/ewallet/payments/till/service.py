"""The counter's use cases: a sale at the till, its state while the customer confirms, and
the static QR page (codes, stores, the day's static-QR payments).

A till sale is a payment-code charge (:func:`ewallet.payments.payment_codes.service.charges.charge`)
of the signed-in person's own merchant. Its ``out_trade_no`` is drawn from the sale form's
request key (``till_`` and a digest of the merchant and the key), so the same form posted
twice -- a double tap, a scanner's second Enter, a reload -- is the same charge and charges
once. The cashier's id is the charge's ``terminal_id`` (a guessing budget per person at the
till) and each sale is audited as ``till.charged`` naming the cashier.

A charge above the customer's no-PIN limits comes back ``waiting``: the order waits for the
customer's payment password (five minutes) and :func:`sale` follows it to ``paid`` or
``declined``. Every other refusal of the charge is raised as is and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, time
from typing import Final

from ewallet.audit.service import record_event
from ewallet.identity.errors import StepUpRequiredError
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ForbiddenError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone
from ewallet.merchants.people import service as people
from ewallet.merchants.people.permissions import REFUNDING, STATIC_QR, TILL
from ewallet.merchants.people.views import PortalUser
from ewallet.merchants.stores import service as stores
from ewallet.merchants.stores.views import StoreView
from ewallet.merchants.views import MerchantPrincipal
from ewallet.models.payments import OrderStatus
from ewallet.payments.orders.service import get_order, list_orders
from ewallet.payments.orders.views import OrderFilter
from ewallet.payments.payment_codes.service import charges
from ewallet.payments.portal_refunds import service as portal_refunds
from ewallet.payments.portal_refunds.views import MemberRefund
from ewallet.payments.static_qr import service as static_qr
from ewallet.payments.static_qr.views import PrintableCode, StaticQrCodeView
from ewallet.payments.till import repository
from ewallet.payments.till.views import FeedPayment, SaleState, StaticQrOverview, TillSale
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services

# Who may do what here is merchants.people.permissions (TILL, STATIC_QR, REFUNDING): the
# same objects the portal's pages and navigation check.
SUBJECT: Final = "Till sale"
FEED_SIZE: Final = 20
_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def out_trade_no(merchant_id: str, request_key: str) -> str:
    """The sale's order number: the same form (key) gives the same number."""
    digest = hashlib.sha256(f"till\n{merchant_id}\n{request_key}".encode()).hexdigest()
    return f"till_{digest[:32]}"


def _state(status: str) -> SaleState:
    if status in (OrderStatus.PAID, OrderStatus.REFUNDED):
        return SaleState.PAID
    if status == OrderStatus.AWAITING_PAYMENT:
        return SaleState.WAITING
    if status == OrderStatus.CLOSED:
        return SaleState.CLOSED
    return SaleState.DECLINED


async def charge_at_till(
    services: Services,
    member: PortalUser,
    *,
    amount: Money,
    payment_code: str,
    request_key: str,
) -> TillSale:
    """Charge the customer's ``payment_code`` ``amount`` for ``member``'s merchant.

    Refusals: ``422 validation_error`` (no request key, an amount of zero, no code), then
    the charge's own (``payment_code_invalid``, ``insufficient_balance``,
    ``limit_exceeded``, ``account_frozen``, ``too_many_attempts``, ...), each leaving
    nothing behind. A charge the customer must confirm is answered ``waiting``."""
    if not TILL.allows(member.role):
        raise ForbiddenError("your role does not allow this")
    if not _KEY.match(request_key):
        raise ValidationFailedError("the sale form is out of date: reload it", field="form_key")
    if amount.minor <= 0:
        raise ValidationFailedError("the amount must be more than zero", field="amount")
    code = re.sub(r"\s+", "", payment_code)
    if not code:
        raise ValidationFailedError("scan or type the customer's payment code", field="code")
    number = out_trade_no(member.merchant_id, request_key)
    earlier = await list_orders(
        services, member.merchant_id, wanted=OrderFilter(out_trade_no=number), limit=1
    )
    known = {order.id for order in earlier.items}
    request = charges.ChargeRequest(
        payment_code=code,
        amount=amount,
        out_trade_no=number,
        subject=SUBJECT,
        terminal_id=member.user_id,
    )
    order_id: str
    try:
        cashier = MerchantPrincipal(merchant_id=member.merchant_id)  # a signed-in member
        view, created = await charges.charge(services, cashier, request=request)
        order_id = view.order.id
    except StepUpRequiredError as waiting:
        # Waiting for the customer: made now, unless this form was posted before.
        order_id = str(waiting.extra["order_id"])
        created = order_id not in known
    found = await sale(services, member, order_id=order_id)
    if created:
        await _audit(services, member, found)
    return found


async def _audit(services: Services, member: PortalUser, found: TillSale) -> None:
    async def work(uow: UnitOfWork) -> None:
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=member.actor(),
            action="till.charged",
            subject_type="order",
            subject_id=found.order_id,
            details={
                "merchant_id": member.merchant_id,
                "cashier": member.user_id,
                "amount": found.amount.to_decimal_string(),
                "currency": found.amount.currency,
                "state": found.state.value,
            },
        )

    await run_unit(services.engine, work)


async def sale(services: Services, member: PortalUser, *, order_id: str) -> TillSale:
    """A sale (any order) of ``member``'s merchant as the till shows it; another
    merchant's order is ``404 not_found``."""
    if not TILL.allows(member.role):
        raise ForbiddenError("your role does not allow this")
    order = await get_order(services, member.merchant_id, order_id=order_id)
    payer = None
    if order.payment_id is not None:
        payment_id = order.payment_id

        async def read(uow: UnitOfWork) -> str | None:
            return await repository.payer_phone(
                await uow.connection(), payment_id=payment_id, merchant_id=member.merchant_id
            )

        phone = await run_unit(services.engine, read, read_only=True)
        payer = mask_phone(phone) if phone else None
    return TillSale(
        order_id=order.id,
        state=_state(order.status),
        amount=order.amount,
        refunded=order.refunded,
        payer=payer,
        at=order.paid_at or order.created_at,
        expires_at=order.expires_at,
    )


# -- the static QR page --------------------------------------------------------------------


def _may_see_codes(member: PortalUser) -> None:
    if not STATIC_QR.allows(member.role):
        raise ForbiddenError("your role does not allow this")


async def static_qr_overview(services: Services, member: PortalUser) -> StaticQrOverview:
    """The merchant's active static QR codes (made for holders without one), its stores
    and today's static-QR payments."""
    _may_see_codes(member)
    codes = await static_qr.list_codes(services, merchant_id=member.merchant_id)
    own_stores = await stores.list_stores(services, merchant_id=member.merchant_id)
    feed = await static_qr_feed(services, member)
    return StaticQrOverview(tuple(codes), tuple(own_stores), tuple(feed))


def day_start(now: datetime) -> datetime:
    """The start of ``now``'s Asia/Shanghai day."""
    return datetime.combine(now.astimezone(CHINA_TIME).date(), time(), tzinfo=CHINA_TIME)


async def static_qr_feed(services: Services, member: PortalUser) -> list[FeedPayment]:
    """Today's (Asia/Shanghai) static-QR payments of the merchant, newest first."""
    _may_see_codes(member)
    since = day_start(services.clock.now())

    async def read(uow: UnitOfWork) -> list[repository.PaidRow]:
        return await repository.static_qr_paid(
            await uow.connection(), merchant_id=member.merchant_id, since=since, limit=FEED_SIZE
        )

    rows = await run_unit(services.engine, read, read_only=True)
    return [
        FeedPayment(
            row.order_id,
            Money(row.amount, row.currency),
            row.subject,
            mask_phone(row.phone),
            row.paid_at,
        )
        for row in rows
    ]


async def regenerate_static_qr(
    services: Services,
    member: PortalUser,
    *,
    token: str,
    fixed_amount: Money | None,
    totp_code: str,
) -> StaticQrCodeView:
    """Retire the merchant's code ``token`` and make its holder a new one, confirmed with
    the person's authenticator code. Refusals in order: ``not_found`` (another merchant's,
    a retired or an unknown code), ``totp_invalid`` (counted against the person's sign-in
    lock), then static_qr's own."""
    _may_see_codes(member)
    if fixed_amount is not None and fixed_amount.minor <= 0:
        raise ValidationFailedError("a fixed amount must be more than zero", field="fixed_amount")
    # Another merchant's or a retired code is refused before the code is asked: a wrong
    # token costs the person no attempt against their lock.
    await static_qr.printable_code(services, merchant_id=member.merchant_id, token=token)
    await people.confirm_with_code(services, member, code=totp_code, purpose="static_qr")
    return await static_qr.regenerate_code(
        services,
        member.actor(),
        merchant_id=member.merchant_id,
        token=token,
        fixed_amount=fixed_amount,
    )


async def printable_code(services: Services, member: PortalUser, *, token: str) -> PrintableCode:
    """What the printed sheet of the merchant's active code ``token`` shows."""
    _may_see_codes(member)
    return await static_qr.printable_code(services, merchant_id=member.merchant_id, token=token)


async def add_store(
    services: Services, member: PortalUser, *, name: str, address: str | None
) -> StoreView:
    """A new store of the merchant (its static QR code is made when the page lists them)."""
    _may_see_codes(member)
    return await stores.create_store(
        services, member.actor(), merchant_id=member.merchant_id, name=name, address=address
    )


def refund_number(merchant_id: str, request_key: str) -> str:
    """A till refund's ``out_refund_no``: the same refund form posted twice refunds once."""
    digest = hashlib.sha256(f"till-refund\n{merchant_id}\n{request_key}".encode()).hexdigest()
    return f"till_r_{digest[:32]}"


async def refund_last_sale(
    services: Services,
    member: PortalUser,
    *,
    order_id: str,
    request_key: str,
    totp_code: str,
    approver_email: str,
    approver_password: str,
    approver_totp: str,
) -> MemberRefund:
    """Refund what is left of the sale ``order_id`` from the till: an owner or manager
    directly (``refund_as_member``, their code above the threshold) unless they name an
    approver; anyone else with an owner's or manager's approval typed on the spot
    (``refund_with_approval``). Refusals: ``404`` (another merchant's order), ``422
    validation_error`` (nothing left to refund, an out-of-date form), then the refund
    use cases' own; each refunds nothing."""
    found = await sale(services, member, order_id=order_id)
    if not _KEY.match(request_key):
        raise ValidationFailedError("the refund form is out of date: reload it", field="form_key")
    if found.state != SaleState.PAID or found.refundable.minor <= 0:
        raise ValidationFailedError("this sale has nothing left to refund", field="amount")
    number = refund_number(member.merchant_id, request_key)
    if REFUNDING.allows(member.role) and not approver_email:
        return await portal_refunds.refund_as_member(
            services,
            member,
            order_id=found.order_id,
            amount=found.refundable,
            totp_code=totp_code,
            out_refund_no=number,
        )
    return await portal_refunds.refund_with_approval(
        services,
        member,
        order_id=found.order_id,
        amount=found.refundable,
        approver_email=approver_email,
        approver_password=approver_password,
        approver_totp=approver_totp,
        out_refund_no=number,
    )
