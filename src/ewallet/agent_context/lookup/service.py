"""The money look-up: any id of ours, or a merchant's order number, to the whole story.

An agent pastes what the customer or the shop reads out -- a payment, order, refund,
transfer, top-up, withdrawal, payment-code charge, bill payment or counter deposit id, the
id of an entry in the customer's history (a ledger transaction or hold), or the shop's own
order number (``out_trade_no``, with or without its merchant) -- and gets each matching
record with its state, amount, times, customer (masked by role), merchant, and for
anything about an order: the order, its payment and refunds, and every attempt to tell
the merchant (the webhook deliveries), with a verdict (:mod:`.verdicts`) that says what
to tell the customer. A look-up that finds something is audited
(``support.money_looked_up``) in the same transaction as the read; one that finds nothing
is ``404 not_found`` and records nothing, as a customer id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.agent_context.lookup import repository as repo
from ewallet.agent_context.lookup.verdicts import movement_verdict, order_verdict
from ewallet.agent_context.lookup.views import (
    ChargeFacts,
    MerchantBrief,
    MoneyLookup,
    MoneyRecord,
    OrderFacts,
    Party,
    PaymentFacts,
    RefundFacts,
    WebhookAttempt,
)
from ewallet.agent_context.masking import sees_in_full, shown_phone
from ewallet.audit.service import record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.i18n import EN, ZH_CN, Locale
from ewallet.kit.money import Money
from ewallet.models.payments import PaymentStatus
from ewallet.payments.views import effective_status
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal

# Our ids carry their kind in the prefix (kit/ids.py).
ID_KINDS: Final = {
    "ord": "order",
    "pay": "payment",
    "rfd": "refund",
    "pcc": "payment_code_charge",
    "trf": "transfer",
    "top": "topup",
    "wdr": "withdrawal",
    "bil": "bill_payment",
    "cdp": "counter_deposit",
}
LEDGER_PREFIXES: Final = ("txn", "hld")
# The business record a ledger entry's metadata names, most specific first (a refund's
# entry also names its payment).
METADATA_KINDS: Final = (
    ("refund_id", "refund"),
    ("payment_id", "payment"),
    ("transfer_id", "transfer"),
    ("topup_id", "topup"),
    ("withdrawal_id", "withdrawal"),
    ("bill_payment_id", "bill_payment"),
    ("counter_deposit_id", "counter_deposit"),
)
ORDER_KINDS: Final = frozenset({"order", "payment", "refund", "payment_code_charge"})
MAX_MATCHES: Final = 10
WEBHOOK_ATTEMPTS: Final = 20
MAX_QUERY: Final = 64


async def look_up_money(
    services: Services,
    principal: StaffPrincipal,
    *,
    query: str | None = None,
    out_trade_no: str | None = None,
    merchant_id: str | None = None,
    locale: Locale = ZH_CN,
) -> MoneyLookup:
    """What ``query`` (an id of ours; failing that, a merchant's order number) or
    ``out_trade_no`` (of ``merchant_id``, or of any merchant) names, as the module doc says.

    Refusals: ``422 validation_error`` (not exactly one of ``query`` and ``out_trade_no``,
    ``merchant_id`` without ``out_trade_no``, or text over 64 characters); ``404
    not_found`` (nothing matches; nothing recorded).
    """
    query = _cleaned(query)
    out_trade_no = _cleaned(out_trade_no)
    merchant_id = _cleaned(merchant_id)
    if (query is None) == (out_trade_no is None):
        raise ValidationFailedError("look up either an id (q) or an out_trade_no")
    if merchant_id is not None and out_trade_no is None:
        raise ValidationFailedError("merchant_id narrows an out_trade_no look-up only")
    full = sees_in_full(principal)

    async def work(uow: UnitOfWork) -> MoneyLookup:
        conn = await uow.connection()
        reader = _Reader(conn, services.clock.now(), full=full, locale=locale)
        if query is not None:
            found = await reader.by_query(query)
        else:
            assert out_trade_no is not None
            found = await reader.by_out_trade_no(out_trade_no, merchant_id=merchant_id)
        if not found.records:
            raise NotFoundError("no payment, order, transfer, top-up or withdrawal matches")
        first = found.records[0]
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="support.money_looked_up",
            subject_type=first.kind,
            subject_id=first.id,
            details={
                "by": found.matched_by,
                "query": query if query is not None else out_trade_no,
                "merchant_id": merchant_id,
                "records": [f"{r.kind}:{r.id}" for r in found.records],
                "customers": sorted(
                    {p.user_id for r in found.records for p in (r.customer, r.payee) if p}
                ),
                "phone_in_full": full,
            },
        )
        return found

    return await run_unit(services.engine, work)


def _cleaned(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text.strip()) > MAX_QUERY:
        raise ValidationFailedError("the look-up text is too long")
    return text.strip()


@dataclass
class _Reader:
    """Reads and shapes records inside the look-up's unit."""

    conn: AsyncConnection
    now: datetime
    full: bool
    locale: Locale

    async def by_query(self, query: str) -> MoneyLookup:
        prefix, _, _ = query.lower().partition("_")
        if prefix in ID_KINDS:
            row = await repo.record(self.conn, ID_KINDS[prefix], query.lower())
            if row is not None:
                return MoneyLookup("id", [await self.shaped(ID_KINDS[prefix], row)])
        if prefix in LEDGER_PREFIXES:
            found = await self.by_ledger_entry(query.lower())
            if found is not None:
                return MoneyLookup("ledger_transaction", [found])
        # Not an id of ours (or none by that id): perhaps the shop's own order number.
        return await self.by_out_trade_no(query, merchant_id=None)

    async def by_ledger_entry(self, entry_id: str) -> MoneyRecord | None:
        metadata = await repo.ledger_metadata(self.conn, entry_id)
        if metadata is None:
            return None
        for key, kind in METADATA_KINDS:
            if isinstance(record_id := metadata.get(key), str):
                row = await repo.record(self.conn, kind, record_id)
                if row is not None:
                    return await self.shaped(kind, row)
        return None

    async def by_out_trade_no(self, out_trade_no: str, *, merchant_id: str | None) -> MoneyLookup:
        rows = await repo.orders_by_out_trade_no(
            self.conn, out_trade_no, merchant_id=merchant_id, limit=MAX_MATCHES
        )
        return MoneyLookup("out_trade_no", [await self.shaped("order", row) for row in rows])

    async def shaped(self, kind: str, row: Row[Any]) -> MoneyRecord:
        if kind in ORDER_KINDS:
            return await self.order_record(kind, row)
        if kind == "transfer":
            return await self.transfer(row)
        if kind == "topup":
            return await self.topup(row)
        if kind == "withdrawal":
            return await self.withdrawal(row)
        if kind == "bill_payment":
            return await self.bill_payment(row)
        return await self.counter_deposit(row)

    async def party(self, user_id: str | None) -> Party | None:
        if user_id is None:
            return None
        row = (await repo.customers(self.conn, [user_id])).get(user_id)
        if row is None:
            return None
        return Party(row.id, shown_phone(row.phone, full=self.full), not self.full, row.status)

    async def order_record(self, kind: str, row: Row[Any]) -> MoneyRecord:
        """An order, or a payment, refund or charge of one: the order's whole story."""
        conn = self.conn
        order_row = row if kind == "order" else await repo.record(conn, "order", row.order_id)
        assert order_row is not None  # the foreign key holds it
        payment_row = row if kind == "payment" else await repo.payment_of_order(conn, order_row.id)
        charge_row = (
            row if kind == "payment_code_charge" else await repo.charge_of_order(conn, order_row.id)
        )
        merchant_row = await repo.merchant(conn, order_row.merchant_id)
        refund_rows = (
            [] if payment_row is None else await repo.refunds_of_payment(conn, payment_row.id)
        )
        attempts = await repo.webhook_attempts(
            conn, merchant_id=order_row.merchant_id, order_id=order_row.id, limit=WEBHOOK_ATTEMPTS
        )
        order = OrderFacts(
            id=order_row.id,
            out_trade_no=order_row.out_trade_no,
            subject=order_row.subject,
            status=effective_status(order_row.status, order_row.expires_at, self.now),
            amount=Money(order_row.amount, order_row.currency),
            created_at=order_row.created_at,
            expires_at=order_row.expires_at,
            paid_at=order_row.paid_at,
            closed_at=order_row.closed_at,
            notifies=bool(order_row.notify_url or (merchant_row and merchant_row.webhook_url)),
        )
        payment = None if payment_row is None else _payment(payment_row)
        charge = None if charge_row is None else self.charge(charge_row)
        refunds = [
            RefundFacts(r.id, r.out_refund_no, Money(r.amount, r.currency), r.created_at)
            for r in refund_rows
        ]
        webhooks = [
            WebhookAttempt(
                w.event_id,
                w.event_type,
                w.attempt,
                w.succeeded,
                w.status_code,
                w.error,
                w.created_at,
            )
            for w in attempts
        ]
        payer = payment_row.user_id if payment_row else (charge_row.user_id if charge_row else None)
        if kind == "refund":
            status, amount = "succeeded", Money(row.amount, row.currency)
            created, completed, verdict = row.created_at, row.created_at, "refund_completed"
        else:
            verdict = order_verdict(order, payment, charge, webhooks)
            if kind == "payment" and payment is not None:
                status, amount = payment.status, payment.amount
                created, completed = payment.created_at, payment.created_at
            elif kind == "payment_code_charge" and charge is not None:
                status, amount = charge.status, charge.amount
                created, completed = charge.created_at, charge.completed_at
            else:
                status, amount = order.status, order.amount
                created, completed = order.created_at, order.paid_at or order.closed_at
        return MoneyRecord(
            kind=kind,
            id=row.id,
            status=status,
            amount=amount,
            created_at=created,
            completed_at=completed,
            verdict=verdict,
            customer=await self.party(payer),
            merchant=None if merchant_row is None else _merchant(merchant_row),
            order=order,
            payment=payment,
            charge=charge,
            refunds=refunds,
            webhooks=webhooks,
            ledger_transaction_id=(
                row.ledger_transaction_id if kind in {"payment", "refund"} else None
            ),
        )

    def charge(self, row: Row[Any]) -> ChargeFacts:
        status = row.status
        if status == "pending" and row.expires_at <= self.now:
            status = "expired"  # never stored: a pending charge past its expiry
        return ChargeFacts(
            row.id,
            status,
            row.auth,
            Money(row.amount, row.currency),
            row.created_at,
            row.expires_at,
            row.completed_at,
        )

    async def transfer(self, row: Row[Any]) -> MoneyRecord:
        return MoneyRecord(
            kind="transfer",
            id=row.id,
            status=row.status,
            amount=Money(row.amount, row.currency),
            created_at=row.created_at,
            completed_at=row.created_at,
            verdict=movement_verdict("transfer", row.status),
            customer=await self.party(row.payer_user_id),
            payee=await self.party(row.payee_user_id),
            ledger_transaction_id=row.ledger_transaction_id,
        )

    async def topup(self, row: Row[Any]) -> MoneyRecord:
        return MoneyRecord(
            kind="topup",
            id=row.id,
            status=row.status,
            amount=Money(row.amount, row.currency),
            created_at=row.created_at,
            completed_at=row.completed_at,
            verdict=movement_verdict("topup", row.status),
            customer=await self.party(row.user_id),
            method=row.method,
            card=await repo.card_label(self.conn, row.card_id),
            reference=row.provider_reference,
            failure_reason=row.failure_reason,
            ledger_transaction_id=row.ledger_transaction_id,
        )

    async def withdrawal(self, row: Row[Any]) -> MoneyRecord:
        return MoneyRecord(
            kind="withdrawal",
            id=row.id,
            status=row.status,
            amount=Money(row.amount, row.currency),
            fee=Money(row.fee, row.currency),
            created_at=row.created_at,
            completed_at=row.completed_at,
            verdict=movement_verdict("withdrawal", row.status),
            customer=await self.party(row.user_id),
            card=await repo.card_label(self.conn, row.card_id),
            reference=row.bank_reference,
            failure_reason=row.failure_reason,
        )

    async def bill_payment(self, row: Row[Any]) -> MoneyRecord:
        names = await repo.biller_names(self.conn, row.biller_id)
        biller = None if names is None else names[1] if self.locale == EN else names[0]
        return MoneyRecord(
            kind="bill_payment",
            id=row.id,
            status=row.status,
            amount=Money(row.amount, row.currency),
            created_at=row.created_at,
            completed_at=row.completed_at,
            verdict=movement_verdict("bill_payment", row.status),
            customer=await self.party(row.user_id),
            reference=row.receipt_no or row.biller_confirmation,
            failure_reason=row.failure_reason,
            ledger_transaction_id=row.ledger_transaction_id,
            biller=biller,
            account_no=_masked_account(row.account_no),
        )

    async def counter_deposit(self, row: Row[Any]) -> MoneyRecord:
        return MoneyRecord(
            kind="counter_deposit",
            id=row.id,
            status=row.status,
            amount=Money(row.amount, row.currency),
            created_at=row.created_at,
            completed_at=row.decided_at,
            verdict=movement_verdict("counter_deposit", row.status),
            customer=await self.party(row.user_id),
            method="counter",
            reference=f"{row.branch} {row.receipt_no}",
            failure_reason=row.reject_reason,
            ledger_transaction_id=row.ledger_transaction_id,
        )


def _payment(row: Row[Any]) -> PaymentFacts:
    amount, refunded = Money(row.amount, row.currency), Money(row.refunded_amount, row.currency)
    if refunded.minor == 0:
        status = PaymentStatus.SUCCEEDED
    elif refunded == amount:
        status = PaymentStatus.REFUNDED
    else:
        status = PaymentStatus.PARTIALLY_REFUNDED
    return PaymentFacts(row.id, status, amount, refunded, row.created_at, row.ledger_transaction_id)


def _merchant(row: Row[Any]) -> MerchantBrief:
    return MerchantBrief(row.id, row.name, row.status, bool(row.accepts_wallet))


def _masked_account(account_no: str) -> str:
    """A bill's account number with only its last four characters shown."""
    return account_no if len(account_no) <= 4 else "*" * (len(account_no) - 4) + account_no[-4:]
