"""Counter cash deposits: take cash, credit at once or wait for a second person, decide.

- **Create** (teller or supervisor): the customer is found by phone number; a frozen
  account takes no deposit. Below the large-cash threshold the wallet is credited in the
  same unit of work that records the deposit (``completed``); at or above it the deposit
  waits (``awaiting_approval``) and a large-cash record is written, nothing is credited.
- **Approve** (a supervisor who is not the teller of the deposit): a conditional
  ``UPDATE`` moves the deposit from ``awaiting_approval`` to ``completed`` in the same unit
  as the ledger entry (key ``counter_deposit:<id>``), so concurrent approvals credit once.
- **Reject** (a supervisor): ``awaiting_approval`` → ``rejected``; nothing is credited and
  the teller gives the cash back.

A receipt number identifies a deposit at its branch: submitting the same slip again with
the same content finds the first deposit (``created`` is False); with other content it is
``receipt_already_used``. Every create, approve and reject is audit-logged with the staff
member as actor, in the unit that makes the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import record_event
from ewallet.config import Settings
from ewallet.counter.errors import DepositNotAwaitingApprovalError, ReceiptAlreadyUsedError
from ewallet.counter.views import AWAITING, COMPLETED, REJECTED, DepositView
from ewallet.identity.guards import ensure_not_frozen
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import CurrencyNotSupportedError, ForbiddenError, NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone, parse_phone
from ewallet.ledger import Ledger, Transaction, TransactionKind, apply_command, chart, transfer
from ewallet.models.identity import User
from ewallet.models.tables import counter_deposits as deposits
from ewallet.models.tables import large_cash_records as large_cash
from ewallet.notify.service import notify_user
from ewallet.staff.principal import StaffPrincipal

log = structlog.get_logger(__name__)

# The vaults hold renminbi: the threshold and the cash are CNY.
COUNTER_CURRENCY: Final = "CNY"
SUBJECT: Final = "counter_deposit"


@dataclass(frozen=True, slots=True)
class CounterPolicy:
    """At or above ``threshold`` a deposit needs a second person's approval."""

    threshold: Money
    default_branch: str

    @classmethod
    def from_settings(cls, settings: Settings) -> CounterPolicy:
        return cls(
            threshold=Money(settings.large_cash_threshold_minor, COUNTER_CURRENCY),
            default_branch=settings.counter_default_branch,
        )

    def needs_approval(self, amount: Money) -> bool:
        return amount >= self.threshold


@dataclass(frozen=True, slots=True)
class CounterServices:
    engine: AsyncEngine
    ledger: Ledger
    clock: Clock
    policy: CounterPolicy


@dataclass(frozen=True, slots=True)
class DepositSlip:
    """What the teller typed from the paper receipt, already parsed."""

    phone: str  # E.164
    amount: Money
    receipt_no: str
    branch: str

    @classmethod
    def parse(
        cls,
        policy: CounterPolicy,
        *,
        phone: str,
        amount: str,
        receipt_no: str,
        currency: str | None = None,
        branch: str | None = None,
    ) -> DepositSlip:
        """``invalid_phone``, ``invalid_amount`` or ``currency_not_supported`` (not CNY) for
        what cannot be a deposit."""
        currency = currency or COUNTER_CURRENCY
        if currency != COUNTER_CURRENCY:
            raise CurrencyNotSupportedError(f"the counter takes {COUNTER_CURRENCY} cash only")
        return cls(
            phone=parse_phone(phone),
            amount=Money.parse(amount, currency),
            receipt_no=receipt_no,
            branch=branch or policy.default_branch,
        )


@dataclass(frozen=True, slots=True)
class Recorded:
    deposit: DepositView
    created: bool  # False: the receipt was submitted before, this is that deposit


# ------------------------------------------------------------------------------ create


async def create_deposit(
    services: CounterServices, *, staff: StaffPrincipal, slip: DepositSlip
) -> Recorded:
    """Record the cash of ``slip`` (and credit it now if it is below the threshold)."""
    engine, ledger, clock = services.engine, services.ledger, services.clock
    earlier = await _by_receipt(engine, slip)
    if earlier is not None:
        return _replayed(earlier, slip)
    # Refusals (unknown phone, frozen account) before any ledger account is opened.
    customer = await run_unit(engine, lambda uow: _customer(uow, slip.phone))
    large = services.policy.needs_approval(slip.amount)
    wallet_id = vault_id = 0
    if not large:
        wallet_id, vault_id = await _accounts(ledger, customer.id, slip)
    deposit_id = new_id("cdp")

    async def work(uow: UnitOfWork) -> Recorded:
        conn = await uow.connection()
        again = (await conn.execute(_receipt_query(slip))).first()
        if again is not None:
            return Recorded(DepositView.of(again), created=False)
        user = await _customer(uow, slip.phone)
        now = clock.now()
        await conn.execute(
            insert(deposits).values(
                id=deposit_id,
                branch=slip.branch,
                receipt_no=slip.receipt_no,
                user_id=user.id,
                phone=slip.phone,
                amount=slip.amount.minor,
                currency=slip.amount.currency,
                status=AWAITING if large else COMPLETED,
                teller_id=staff.staff_id,
                decided_by=None,
                reject_reason=None,
                ledger_transaction_id=None,
                created_at=now,
                updated_at=now,
                decided_at=None if large else now,
            )
        )
        if large:
            await _write_large_cash_record(
                uow, deposit_id=deposit_id, user=user, slip=slip, staff=staff, now=now
            )
        else:
            await _credit(uow, clock, deposit_id, wallet_id=wallet_id, vault_id=vault_id)
        await _audit(
            uow,
            clock,
            staff,
            "counter_deposit.created",
            deposit_id,
            user_id=user.id,
            amount=slip.amount.to_decimal_string(),
            currency=slip.amount.currency,
            branch=slip.branch,
            receipt_no=slip.receipt_no,
            status=AWAITING if large else COMPLETED,
        )
        return Recorded(await _load(uow, deposit_id), created=True)

    try:
        recorded = await run_unit(engine, work)
    except IntegrityError:
        # The same receipt recorded concurrently: theirs is the deposit (or a conflict).
        raced = await _by_receipt(engine, slip)
        if raced is None:
            raise
        return _replayed(raced, slip)
    if not recorded.created:
        return _replayed(recorded.deposit, slip)
    log.info(
        "counter.deposit_created",
        deposit_id=deposit_id,
        status=recorded.deposit.status,
        branch=slip.branch,
    )
    return recorded


def _replayed(earlier: DepositView, slip: DepositSlip) -> Recorded:
    same = (earlier.phone, earlier.amount) == (slip.phone, slip.amount)
    if not same:
        raise ReceiptAlreadyUsedError(
            f"receipt {slip.receipt_no} of branch {slip.branch} is already used by another deposit",
            deposit_id=earlier.id,
        )
    return Recorded(earlier, created=False)


def _receipt_query(slip: DepositSlip) -> Any:
    return select(deposits).where(
        deposits.c.branch == slip.branch, deposits.c.receipt_no == slip.receipt_no
    )


async def _by_receipt(engine: AsyncEngine, slip: DepositSlip) -> DepositView | None:
    async def work(uow: UnitOfWork) -> Any:
        return (await (await uow.connection()).execute(_receipt_query(slip))).first()

    row = await run_unit(engine, work, read_only=True)
    return None if row is None else DepositView.of(row)


async def _customer(uow: UnitOfWork, phone: str) -> User:
    """The active customer with ``phone`` (row share-locked); else ``not_found`` or
    ``account_frozen``."""
    conn = await uow.connection()
    user_id = await conn.scalar(select(User.id).where(User.phone == phone))
    if user_id is None:
        raise NotFoundError("no customer has this phone number")
    await ensure_not_frozen(conn, user_id=user_id)
    user = await uow.session.get(User, user_id)
    assert user is not None
    return user


async def _accounts(ledger: Ledger, user_id: str, slip: DepositSlip) -> tuple[int, int]:
    """(wallet id, cash vault id), opened if new: outside the unit, like every account."""
    currency = slip.amount.currency
    wallet = await chart.open_account(ledger, chart.wallet(user_id, currency))
    vault = await chart.open_account(ledger, chart.cash_vault(slip.branch, currency))
    return wallet.id, vault.id


async def _write_large_cash_record(
    uow: UnitOfWork,
    *,
    deposit_id: str,
    user: User,
    slip: DepositSlip,
    staff: StaffPrincipal,
    now: datetime,
) -> None:
    conn = await uow.connection()
    await conn.execute(
        insert(large_cash).values(
            id=new_id("lcr"),
            deposit_id=deposit_id,
            user_id=user.id,
            customer_name_masked=user.real_name_masked,
            phone_masked=mask_phone(slip.phone),
            amount=slip.amount.minor,
            currency=slip.amount.currency,
            branch=slip.branch,
            teller_id=staff.staff_id,
            occurred_at=now,
            approved_by=None,
            approved_at=None,
        )
    )


async def _credit(
    uow: UnitOfWork, clock: Clock, deposit_id: str, *, wallet_id: int, vault_id: int
) -> None:
    """Cash vault → wallet, once (ledger key ``counter_deposit:<id>``), and tell the owner."""
    conn = await uow.connection()
    deposit = await _load(uow, deposit_id)
    outcome = await apply_command(
        uow,
        transfer(
            key=f"counter_deposit:{deposit_id}",
            debit_account_id=vault_id,
            credit_account_id=wallet_id,
            amount=deposit.amount,
            kind=TransactionKind.TOPUP,
            metadata={
                "counter_deposit_id": deposit_id,
                "branch": deposit.branch,
                "receipt_no": deposit.receipt_no,
            },
        ),
        clock=clock,
    )
    assert isinstance(outcome, Transaction)
    await conn.execute(
        update(deposits).where(deposits.c.id == deposit_id).values(ledger_transaction_id=outcome.id)
    )
    user = await uow.session.get(User, deposit.user_id)
    assert user is not None
    await notify_user(
        uow.session,
        clock=clock,
        user=user,
        kind="counter_deposit_credited",
        params={
            "amount": deposit.amount.to_decimal_string(),
            "currency": deposit.amount.currency,
            "branch": deposit.branch,
        },
        sms=False,
        security=False,
    )


# ------------------------------------------------------------------------------ decide


async def approve_deposit(
    services: CounterServices, *, staff: StaffPrincipal, deposit_id: str
) -> DepositView:
    """Credit a deposit that waits for approval; the approver must not be its teller."""
    engine, clock = services.engine, services.clock
    deposit = await get_deposit(engine, deposit_id)
    _check_second_person(deposit, staff)
    _check_awaiting(deposit)
    slip = DepositSlip(deposit.phone, deposit.amount, deposit.receipt_no, deposit.branch)
    wallet_id, vault_id = await _accounts(services.ledger, deposit.user_id, slip)

    async def work(uow: UnitOfWork) -> DepositView:
        conn = await uow.connection()
        now = clock.now()
        # The customer's row before the deposit's: the global lock order (kit/db/locking.py).
        await ensure_not_frozen(conn, user_id=deposit.user_id)
        await _claim(uow, deposit_id, status=COMPLETED, staff=staff, decided_at=now)
        await _credit(uow, clock, deposit_id, wallet_id=wallet_id, vault_id=vault_id)
        await conn.execute(
            update(large_cash)
            .where(large_cash.c.deposit_id == deposit_id)
            .values(approved_by=staff.staff_id, approved_at=now)
        )
        await _audit(
            uow,
            clock,
            staff,
            "counter_deposit.approved",
            deposit_id,
            user_id=deposit.user_id,
            amount=deposit.amount.to_decimal_string(),
            currency=deposit.amount.currency,
            teller_id=deposit.teller_id,
        )
        return await _load(uow, deposit_id)

    approved = await run_unit(engine, work)
    log.info("counter.deposit_approved", deposit_id=deposit_id)
    return approved


async def reject_deposit(
    services: CounterServices, *, staff: StaffPrincipal, deposit_id: str, reason: str
) -> DepositView:
    """Refuse a deposit that waits for approval: nothing is credited, the cash goes back."""
    engine, clock = services.engine, services.clock

    async def work(uow: UnitOfWork) -> DepositView:
        await _claim(
            uow, deposit_id, status=REJECTED, staff=staff, decided_at=clock.now(), reason=reason
        )
        deposit = await _load(uow, deposit_id)
        await _audit(
            uow,
            clock,
            staff,
            "counter_deposit.rejected",
            deposit_id,
            user_id=deposit.user_id,
            amount=deposit.amount.to_decimal_string(),
            currency=deposit.amount.currency,
            reason=reason,
        )
        return deposit

    rejected = await run_unit(engine, work)
    log.info("counter.deposit_rejected", deposit_id=deposit_id)
    return rejected


def _check_second_person(deposit: DepositView, staff: StaffPrincipal) -> None:
    if deposit.teller_id == staff.staff_id:
        raise ForbiddenError(
            "a large deposit needs a second person: the staff member who took the cash "
            "cannot approve it"
        )


def _check_awaiting(deposit: DepositView) -> None:
    if deposit.status != AWAITING:
        raise DepositNotAwaitingApprovalError(
            f"the deposit is {deposit.status}, not awaiting approval", status=deposit.status
        )


async def _claim(
    uow: UnitOfWork,
    deposit_id: str,
    *,
    status: str,
    staff: StaffPrincipal,
    decided_at: datetime,
    reason: str | None = None,
) -> None:
    """Move the deposit out of ``awaiting_approval``; refuse if it is gone or decided."""
    conn = await uow.connection()
    claimed = await conn.execute(
        update(deposits)
        .where(deposits.c.id == deposit_id, deposits.c.status == AWAITING)
        .values(
            status=status,
            decided_by=staff.staff_id,
            decided_at=decided_at,
            updated_at=decided_at,
            reject_reason=reason,
        )
    )
    if claimed.rowcount == 1:
        return
    _check_awaiting(await _load(uow, deposit_id))  # raises: decided by someone else
    raise AssertionError("unreachable: an awaiting deposit was not claimed")


# ------------------------------------------------------------------------------ shared


async def get_deposit(engine: AsyncEngine, deposit_id: str) -> DepositView:
    """The deposit ``deposit_id``, or ``not_found``."""
    return await run_unit(engine, lambda uow: _load(uow, deposit_id), read_only=True)


async def _load(uow: UnitOfWork, deposit_id: str) -> DepositView:
    conn = await uow.connection()
    row = (await conn.execute(select(deposits).where(deposits.c.id == deposit_id))).first()
    if row is None:
        raise NotFoundError("no such counter deposit")
    return DepositView.of(row)


async def _audit(
    uow: UnitOfWork,
    clock: Clock,
    staff: StaffPrincipal,
    action: str,
    deposit_id: str,
    **details: Any,
) -> None:
    await record_event(
        await uow.connection(),
        clock=clock,
        actor=staff.actor(),
        action=action,
        subject_type=SUBJECT,
        subject_id=deposit_id,
        details=details,
    )
