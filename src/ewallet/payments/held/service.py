"""A merchant payment held for a risk review: how it waits, and how a decision finishes it.

When risk control answers ``review`` for ``POST /v1/payments``, the checkout page or a
static QR payment (not for a payment-code charge: a cashier cannot wait hours, so that
refuses with ``under_review``), :func:`~ewallet.payments.service.settle_order` hands its
admitted spend to :func:`hold_payment`, in the paying unit:

- the whole amount is held wallet -> the merchant's account (the spend seam's review hold,
  ``payment:<id>:review``; the payment's real entry has a fee leg, which a two-account hold
  cannot carry, so the entry waits for the approval);
- a ``held_payments`` row, not a ``payments`` row: refunds, settlement, reconciliation,
  statements and exports all read ``payments`` as money that moved, and this has not;
- the order ``under_review`` (it never expires while it waits, and the merchant cannot
  close it), the merchant's webhook ``order.under_review`` (the order and the payment's
  id), the payer's notice ``payment_under_review`` with the time the decision is due.

:func:`finish_reviewed_payment` is the completion the review queue
(:mod:`ewallet.reviews.service`) calls in the unit that decides. Approved: the hold is voided
and the payment's normal entry (``payment:<id>``: merchant net of fee, fee revenue the fee)
posted in its place, the ``payments`` row written, the order ``paid`` and ``order.paid``
queued as for a payment that was never held -- the merchant is credited once. Rejected: the
hold is voided, the spend released from the day's limits, the order ``closed`` with
``order.closed`` queued, the payer told the money is back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ewallet.identity.errors import AccountFrozenError
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import ConflictError
from ewallet.kit.money import Money
from ewallet.ledger import CreateHold, Transaction, TransactionKind, VoidHold, apply_command
from ewallet.merchants.views import MerchantView
from ewallet.models.identity import User, UserStatus
from ewallet.models.payments import HeldPaymentState, OrderStatus, PaymentStatus
from ewallet.notify.service import notify_user
from ewallet.payments import repository as shared
from ewallet.payments.entry import PaymentAccounts, payment_entry
from ewallet.payments.held import repository
from ewallet.payments.schemas import order_document
from ewallet.payments.views import OrderView, PaymentView
from ewallet.payments.webhooks.service import queue_order_event
from ewallet.risk.review.views import ReviewView
from ewallet.risk.spending import release_spend
from ewallet.spend.service import Admission, Held, ReviewTerms, book_spend


def review_hold(*, reference: str, accounts: PaymentAccounts, amount: Money) -> CreateHold:
    """What the spend seam holds while the payment waits: the whole amount, wallet -> the
    merchant (the seam keys it ``<reference>:review``)."""
    return CreateHold(
        key=reference,
        kind=TransactionKind.PAYMENT,
        debit_account_id=accounts.wallet,
        credit_account_id=accounts.merchant,
        amount=amount,
        metadata={"payment_id": reference.removeprefix("payment:")},
    )


async def hold_payment(
    uow: UnitOfWork,
    clock: Clock,
    admission: Admission,
    *,
    order: OrderView,
    merchant: MerchantView,
    payer: User,
    accounts: PaymentAccounts,
    fee: int,
    request_key: str | None,
    review: ReviewTerms,
) -> tuple[PaymentView, OrderView]:
    """Keep the admitted payment of ``order`` (claimed in this unit) waiting for its review
    (module doc); the payment and the order as written."""
    spend = admission.request
    held = await book_spend(
        uow,
        admission,
        review_hold(reference=spend.reference, accounts=accounts, amount=spend.amount),
        clock=clock,
        review=review,
    )
    assert isinstance(held, Held)  # called for an admission that is not allowed
    conn = await uow.connection()
    now = clock.now()
    payment_id = review.subject_id
    await repository.insert_held(
        conn,
        payment_id=payment_id,
        order=order,
        user_id=spend.user_id,
        fee=fee,
        channel=spend.channel.value,
        auth=spend.auth.value,
        request_key=request_key,
        hold_id=held.hold.id,
        review_id=None if held.review is None else held.review.id,
        accounts=accounts,
        now=now,
    )
    await repository.hold_order(conn, order_id=order.id, now=now)
    waiting = replace(
        order,
        merchant_name=merchant.name,
        status=OrderStatus.UNDER_REVIEW,
        payment_id=payment_id,
        refunded=Money(0, order.amount.currency),
    )
    url = order.notify_url if order.notify_url is not None else merchant.webhook_url
    await queue_order_event(
        uow,
        clock=clock,
        merchant_id=order.merchant_id,
        order_id=order.id,
        url=url,
        event_type="order.under_review",
        data={"order": order_document(waiting), "payment_id": payment_id},
    )
    due = None if held.review is None else held.review.due_at
    await _tell_payer(
        uow, clock, payer, "payment_under_review", amount=order.amount, merchant=merchant, due=due
    )
    payment = PaymentView(
        id=payment_id,
        order_id=order.id,
        merchant_id=order.merchant_id,
        merchant_name=merchant.name,
        subject=order.subject,
        user_id=spend.user_id,
        amount=order.amount,
        refunded=Money(0, order.amount.currency),
        status=PaymentStatus.UNDER_REVIEW,
        ledger_transaction_id=None,
        created_at=now,
        fee=Money(fee, order.amount.currency),
        review_due_at=due,
    )
    return payment, waiting


async def _tell_payer(
    uow: UnitOfWork,
    clock: Clock,
    payer: User,
    kind: str,
    *,
    amount: Money,
    merchant: MerchantView,
    due: datetime | None = None,
) -> None:
    """The payer's notice about their held payment (in-app; a decision, which comes later
    when they may not be looking, by SMS as well)."""
    params = {
        "amount": amount.to_decimal_string(),
        "currency": amount.currency,
        "merchant": merchant.name,
    }
    if due is not None:
        params["due"] = due.isoformat(timespec="minutes")
    await notify_user(
        uow.session,
        clock=clock,
        user=payer,
        kind=kind,
        params=params,
        sms=kind != "payment_under_review",
        security=False,
    )


async def finish_reviewed_payment(
    uow: UnitOfWork, clock: Clock, review: ReviewView, *, approved: bool
) -> None:
    """Finish a payment held for ``review``, in the unit that decided the review (module
    doc). After the review's row (step 2 of the lock order): the order's, the hold, then
    the ledger's accounts; the payer's row is read, not locked, as a transfer's is.

    Refused -- the decision rolled back, the review left open for a rejection -- when the
    payer's account was frozen meanwhile (``account_frozen``: money never leaves a frozen
    account) or the merchant no longer takes wallet payments (``conflict``, member
    ``reason``: ``merchant_not_supported``). A rejection always goes through.
    """
    conn = await uow.connection()
    held = await repository.find_held(conn, review.subject_id)
    if held is None or held.state != HeldPaymentState.UNDER_REVIEW:
        raise ConflictError(
            "the reviewed payment is not under review",
            state="missing" if held is None else held.state,
        )
    payer = await repository.find_user(uow.session, held.user_id)
    assert payer is not None  # users are never deleted
    merchant = await shared.merchant_view(conn, held.merchant_id)
    assert merchant is not None  # merchants are never deleted
    now = clock.now()
    if approved:
        if payer.status != UserStatus.ACTIVE:
            raise AccountFrozenError("the payer's account is frozen: reject the review instead")
        if not merchant.takes_wallet_payments:
            raise ConflictError(
                "the merchant no longer takes wallet payments: reject the review instead",
                reason="merchant_not_supported",
            )
    await repository.decide_held(
        conn,
        held.payment_id,
        state=HeldPaymentState.APPROVED if approved else HeldPaymentState.REJECTED,
        now=now,
    )
    await repository.finish_order(conn, order_id=held.order_id, approved=approved, now=now)
    await apply_command(uow, VoidHold(hold_id=review.hold_id), clock=clock)
    if approved:
        await _complete(uow, clock, held, review=review, now=now)
    else:
        await release_spend(uow, reference=review.reference, now=now)
    order = await shared.order_view(conn, held.order_id, now=now)
    assert order is not None
    url = order.notify_url if order.notify_url is not None else merchant.webhook_url
    await queue_order_event(
        uow,
        clock=clock,
        merchant_id=held.merchant_id,
        order_id=held.order_id,
        url=url,
        event_type="order.paid" if approved else "order.closed",
        data=(
            {"order": order_document(order), "payment_id": held.payment_id}
            if approved
            else {"order": order_document(order)}
        ),
    )
    await _tell_payer(
        uow,
        clock,
        payer,
        "payment_review_approved" if approved else "payment_review_rejected",
        amount=held.amount,
        merchant=merchant,
    )


async def _complete(
    uow: UnitOfWork,
    clock: Clock,
    held: repository.HeldPayment,
    *,
    review: ReviewView,
    now: datetime,
) -> None:
    """The approved payment's entry, posted where the voided hold was, and its row."""
    conn = await uow.connection()
    entry = payment_entry(
        key=review.reference,
        accounts=held.accounts,
        amount=held.amount,
        fee=held.fee,
        metadata={
            "payment_id": held.payment_id,
            "order_id": held.order_id,
            "merchant_id": held.merchant_id,
            "review_id": review.id,
        },
    )
    posted = await apply_command(uow, entry, clock=clock)
    assert isinstance(posted, Transaction)
    order = await shared.order_view(conn, held.order_id, now=now)
    assert order is not None
    await shared.insert_payment(
        conn,
        payment_id=held.payment_id,
        order=order,
        user_id=held.user_id,
        ledger_transaction_id=posted.id,
        request_key=held.request_key,
        now=now,
        fee=held.fee,
    )
