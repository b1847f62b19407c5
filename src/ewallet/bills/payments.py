"""Looking up a bill and paying it: the money moves first, the biller is told after commit.

1. Before the payment password: the biller exists, the account number has its format, a
   top-up amount is one it offers, and the biller knows the account (a look-up). None of
   these costs a PIN attempt or moves money; a biller that does not answer is
   ``upstream_unavailable`` with nothing done.
2. One unit of work (:func:`charge_bill`): the spend is checked and counted
   (``reserve_spend``, channel ``bill``, which also locks the user's row and re-checks the
   freeze), one ledger entry (kind ``bill``) moves the amount wallet →
   ``biller_payable:<biller>``, the ``bill_payments`` row is written ``pending``, and a
   ``bills.deliver`` outbox event is queued (due after ``bill_delivery_retry_seconds``).
   A limit or the balance refuses the whole unit: nothing is left behind.
3. After commit the biller is told at once (:mod:`ewallet.bills.delivery`). If it cannot
   be reached the payment stays ``pending`` and the queued event tells it again, with
   back-off, until it answers; it deduplicates by our reference (the payment id), so it
   is never paid twice, and the money is never lost.

The payment keeps the request key of the request that made it (:mod:`ewallet.kit.request_key`):
once the charge committed, the key never goes back, and a retry of that request answers the
same payment (:func:`resume_bill_payment`) instead of charging again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.bills.directory import get_biller
from ewallet.identity.realname import mask_real_name
from ewallet.integrations.biller.directory import BillerSpec
from ewallet.integrations.biller.port import BillerGateway
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey, row_for_request
from ewallet.ledger import Ledger, Transaction, TransactionKind, apply_command, chart, transfer
from ewallet.models.tables import bill_payments
from ewallet.risk.spending import AuthStrength, SpendChannel, SpendingPolicy, reserve_spend
from ewallet.worker.outbox import enqueue

DELIVERY_TOPIC: Final = "bills.deliver"


def spend_reference(payment_id: str) -> str:
    return f"bill:{payment_id}"


def mask_account(account_no: str) -> str:
    """``1000000001`` → ``100***0001``: enough for the owner to recognise, not to reuse."""
    if len(account_no) >= 8:
        return account_no[:3] + "*" * (len(account_no) - 7) + account_no[-4:]
    return "*" * max(0, len(account_no) - 4) + account_no[-4:]


def mask_holder(name: str) -> str:
    return mask_real_name(name) if name else ""


@dataclass(frozen=True, slots=True)
class BillLookup:
    biller: BillerSpec
    account_no: str
    holder_name_masked: str
    amount_due: Money
    period: str
    due_date: date


@dataclass(frozen=True, slots=True)
class BillPaymentView:
    id: str
    user_id: str
    biller_id: str
    account_no: str
    holder_name_masked: str | None
    period: str | None
    amount: Money
    status: str
    ledger_transaction_id: str
    refund_transaction_id: str | None
    biller_confirmation: str | None
    receipt_no: str | None
    failure_reason: str | None
    delivery_attempts: int
    created_at: datetime
    completed_at: datetime | None

    @property
    def account_no_masked(self) -> str:
        return mask_account(self.account_no)

    @classmethod
    def of(cls, row: Any) -> BillPaymentView:
        return cls(
            id=row.id,
            user_id=row.user_id,
            biller_id=row.biller_id,
            account_no=row.account_no,
            holder_name_masked=row.holder_name_masked,
            period=row.period,
            amount=Money(row.amount, row.currency),
            status=row.status,
            ledger_transaction_id=row.ledger_transaction_id,
            refund_transaction_id=row.refund_transaction_id,
            biller_confirmation=row.biller_confirmation,
            receipt_no=row.receipt_no,
            failure_reason=row.failure_reason,
            delivery_attempts=row.delivery_attempts,
            created_at=row.created_at,
            completed_at=row.completed_at,
        )


@dataclass(frozen=True, slots=True)
class BillServices:
    engine: AsyncEngine
    ledger: Ledger
    clock: Clock
    policy: SpendingPolicy
    gateway: BillerGateway
    retry_delay: timedelta


async def lookup_bill(
    engine: AsyncEngine, gateway: BillerGateway, *, biller_id: str, account_no: str
) -> BillLookup:
    """The account's current bill at the biller; reads only, moves nothing."""
    biller = await get_biller(engine, biller_id)
    account = biller.normalize_account(account_no)
    quote = await gateway.lookup(biller_id=biller.id, account_no=account)
    return BillLookup(
        biller=biller,
        account_no=account,
        holder_name_masked=mask_holder(quote.holder_name),
        amount_due=quote.amount_due,
        period=quote.period,
        due_date=quote.due_date,
    )


async def prepare_payment(
    services: BillServices, *, biller_id: str, account_no: str, amount: Money
) -> BillLookup:
    """Every refusal that needs no money, in the module doc's order (before the PIN)."""
    biller = await get_biller(services.engine, biller_id)
    biller.check_amount(amount)
    return await lookup_bill(
        services.engine, services.gateway, biller_id=biller.id, account_no=account_no
    )


async def charge_bill(
    services: BillServices,
    *,
    user_id: str,
    bill: BillLookup,
    amount: Money,
    request_key: RequestKey | None = None,
) -> BillPaymentView:
    """Move the money and record the payment ``pending`` (step 2 of the module doc).

    The payment password has been checked by the caller. Raises ``limit_exceeded``,
    ``insufficient_balance`` or ``account_frozen``, each with nothing changed. With
    ``request_key``, a concurrent run of the same request answers the payment it made.
    """
    engine, clock = services.engine, services.clock
    wallet = await chart.open_account(services.ledger, chart.wallet(user_id, amount.currency))
    payable = await chart.open_account(
        services.ledger, chart.biller_payable(bill.biller.id, amount.currency)
    )
    payment_id = new_id("bil")

    async def work(uow: UnitOfWork) -> BillPaymentView:
        now = clock.now()
        await reserve_spend(
            uow,
            user_id=user_id,
            amount=amount,
            channel=SpendChannel.BILL,
            auth=AuthStrength.PIN,
            reference=spend_reference(payment_id),
            now=now,
            policy=services.policy,
        )
        outcome = await apply_command(
            uow,
            transfer(
                key=spend_reference(payment_id),
                debit_account_id=wallet.id,
                credit_account_id=payable.id,
                amount=amount,
                kind=TransactionKind.BILL,
                metadata={"bill_payment_id": payment_id, "biller_id": bill.biller.id},
            ),
            clock=clock,
        )
        assert isinstance(outcome, Transaction)
        conn = await uow.connection()
        await conn.execute(
            insert(bill_payments).values(
                id=payment_id,
                user_id=user_id,
                biller_id=bill.biller.id,
                account_no=bill.account_no,
                holder_name_masked=bill.holder_name_masked or None,
                period=bill.period,
                amount=amount.minor,
                currency=amount.currency,
                status="pending",
                ledger_transaction_id=outcome.id,
                refund_transaction_id=None,
                biller_confirmation=None,
                receipt_no=None,
                failure_reason=None,
                delivery_attempts=0,
                request_key=None if request_key is None else request_key.digest,
                created_at=now,
                updated_at=now,
                completed_at=None,
            )
        )
        # The safety net: if telling the biller now fails, or this process dies first,
        # the worker tells it later. A payment already settled makes the event a no-op.
        await enqueue(
            uow.session,
            topic=DELIVERY_TOPIC,
            payload={"bill_payment_id": payment_id},
            clock=clock,
            delay=services.retry_delay,
        )
        row = (
            await conn.execute(select(bill_payments).where(bill_payments.c.id == payment_id))
        ).one()
        return BillPaymentView.of(row)

    try:
        charged = await run_unit(engine, work)
    except IntegrityError:
        earlier = await bill_payment_for_request(engine, user_id=user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    if request_key is not None:
        request_key.effect_possible()  # the money moved and the biller will be told
    return charged


async def bill_payment_for_request(
    engine: AsyncEngine, *, user_id: str, request_key: RequestKey | None
) -> BillPaymentView | None:
    """The payment an earlier run of the same request made, if any (a rerun answers it)."""
    row = await row_for_request(
        engine, bill_payments, owner="user_id", owner_id=user_id, request_key=request_key
    )
    return None if row is None else BillPaymentView.of(row)


async def get_bill_payment(
    engine: AsyncEngine, *, payment_id: str, user_id: str | None
) -> BillPaymentView:
    """The payment; with ``user_id``, only that user's (anyone else gets ``not_found``)."""

    async def work(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        statement = select(bill_payments).where(bill_payments.c.id == payment_id)
        if user_id is not None:
            statement = statement.where(bill_payments.c.user_id == user_id)
        return (await conn.execute(statement)).first()

    row = await run_unit(engine, work, read_only=True)
    if row is None:
        raise NotFoundError("no such bill payment")
    return BillPaymentView.of(row)
