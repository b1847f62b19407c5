"""Counter cash deposits: check the slip, take the cash, credit at once or wait for a
second person, decide.

- **Preview** (teller or supervisor): the slip checked as a create would check it, and the
  customer the phone number opens, masked, for the teller to compare with the person at
  the counter before taking the cash. The look is audit-logged.
- **Create** (teller or supervisor): the customer is found by phone number; a frozen
  account takes no deposit, nor does one the risk decision blocks (event
  ``counter_deposit``). Below the large-cash threshold the wallet is credited in the
  same unit of work that records the deposit (``completed``); at or above it the deposit
  waits (``awaiting_approval``) and a large-cash record is written, nothing is credited.
- **Approve** (a supervisor who is not the teller of the deposit): a conditional
  ``UPDATE`` moves the deposit from ``awaiting_approval`` to ``completed`` in the same unit
  as the ledger entry (key ``counter_deposit:<id>``), so concurrent approvals credit once.
- **Reject** (a supervisor, with a reason): ``awaiting_approval`` → ``rejected``; nothing
  is credited and the teller gives the cash back.

A receipt number identifies a deposit at its branch: submitting the same slip again with
the same content finds the first deposit (``created`` is False); with other content it is
``receipt_already_used``. Every create, approve and reject is audit-logged with the staff
member as actor, in the unit that makes the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import record_event
from ewallet.config import Settings
from ewallet.counter import repository
from ewallet.counter.errors import DepositNotAwaitingApprovalError, ReceiptAlreadyUsedError
from ewallet.counter.service.reading import get_deposit, load
from ewallet.counter.views import (
    BRANCH_PATTERN,
    RECEIPT_PATTERN,
    CounterDesk,
    CounterTerms,
    DepositPreview,
    DepositView,
)
from ewallet.identity.guards import ensure_not_frozen
from ewallet.kit.amounts import AmountIn
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import (
    CurrencyNotSupportedError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
)
from ewallet.kit.ids import new_id
from ewallet.kit.money import InvalidAmountError, Money
from ewallet.kit.phone import mask_phone, parse_phone
from ewallet.ledger import Transaction, TransactionKind, apply_command, chart, transfer
from ewallet.models.counter import DepositStatus
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.risk.decisions import InflowEvent, InflowFacts, RiskSettings, decide_inflow
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal

log = structlog.get_logger(__name__)

# The vaults hold renminbi: the threshold and the cash are CNY.
COUNTER_CURRENCY: Final = "CNY"
SUBJECT: Final = "counter_deposit"
REASON_MAX_LENGTH: Final = 200


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


def counter_terms(services: Services) -> CounterTerms:
    """The rules of a cash top-up as a customer reads them (the web wallet's "top up at a
    counter" page): renminbi only, and the large-cash threshold of :class:`CounterPolicy`."""
    policy = CounterPolicy.from_settings(services.settings)
    return CounterTerms(
        currency=COUNTER_CURRENCY,
        large_cash_threshold=policy.threshold,
        hotline=services.settings.hotline,
    )


def counter_desk(services: Services) -> CounterDesk:
    """What the teller's deposit form states: renminbi only, the large-cash threshold, and
    the branch a slip is booked at when it names none."""
    policy = CounterPolicy.from_settings(services.settings)
    return CounterDesk(
        currency=COUNTER_CURRENCY,
        large_cash_threshold=policy.threshold,
        default_branch=policy.default_branch,
    )


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
        amount: AmountIn,
        receipt_no: str,
        currency: str | None = None,
        branch: str | None = None,
    ) -> DepositSlip:
        """Refused, in this order: ``invalid_amount`` (not a decimal string),
        ``currency_not_supported`` (not CNY), ``invalid_phone``, ``invalid_amount`` (a
        malformed or non-positive decimal), ``validation_error`` (a receipt number or
        branch code the API's request schema would refuse; ``field`` names which)."""
        # The shape first (as kit.amounts.parse_amount refuses it), the value after the
        # currency and the phone: a slip's refusals keep the order tellers know.
        if not isinstance(amount, str):
            raise InvalidAmountError("amount must be a decimal string")
        currency = currency or COUNTER_CURRENCY
        if currency != COUNTER_CURRENCY:
            raise CurrencyNotSupportedError(f"the counter takes {COUNTER_CURRENCY} cash only")
        parsed_phone = parse_phone(phone)
        parsed_amount = Money.parse(amount, currency)
        if not re.fullmatch(RECEIPT_PATTERN, receipt_no):
            raise ValidationFailedError("not a receipt number", field="receipt_no")
        branch = branch or policy.default_branch
        if not re.fullmatch(BRANCH_PATTERN, branch):
            raise ValidationFailedError("not a branch code", field="branch")
        return cls(phone=parsed_phone, amount=parsed_amount, receipt_no=receipt_no, branch=branch)


@dataclass(frozen=True, slots=True)
class Recorded:
    deposit: DepositView
    created: bool  # False: the receipt was submitted before, this is that deposit


# ------------------------------------------------------------------------------ preview


async def preview_deposit(
    services: Services,
    staff: StaffPrincipal,
    *,
    phone: str,
    amount: AmountIn,
    receipt_no: str,
    branch: str | None = None,
) -> DepositPreview:
    """Check a slip before the cash is taken: refused exactly as :func:`create_deposit`
    would refuse it (the slip, ``receipt_already_used``, ``not_found``, ``account_frozen``),
    else whose wallet it credits (masked) and whether a supervisor must approve it.

    The look at the customer is audit-logged (``counter_deposit.customer_checked``);
    nothing else is written.
    """
    policy = CounterPolicy.from_settings(services.settings)
    slip = DepositSlip.parse(
        policy, phone=phone, amount=amount, receipt_no=receipt_no, branch=branch
    )
    earlier = await _by_receipt(services, slip)
    if earlier is not None:
        _replayed(earlier, slip)  # other content: receipt_already_used

    async def work(uow: UnitOfWork) -> User:
        user = await _customer(uow, slip.phone)
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=staff.actor(),
            action="counter_deposit.customer_checked",
            subject_type="user",
            subject_id=user.id,
            details={
                "amount": slip.amount.to_decimal_string(),
                "currency": slip.amount.currency,
                "branch": slip.branch,
                "receipt_no": slip.receipt_no,
            },
        )
        return user

    customer = await run_unit(services.engine, work)
    return DepositPreview(
        phone_masked=mask_phone(slip.phone),
        customer_name_masked=customer.real_name_masked,
        amount=slip.amount,
        receipt_no=slip.receipt_no,
        branch=slip.branch,
        needs_approval=policy.needs_approval(slip.amount),
        large_cash_threshold=policy.threshold,
        earlier=earlier,
    )


# ------------------------------------------------------------------------------ create


async def create_deposit(
    services: Services,
    staff: StaffPrincipal,
    *,
    phone: str,
    amount: AmountIn,
    receipt_no: str,
    currency: str | None = None,
    branch: str | None = None,
) -> Recorded:
    """Record the cash of a slip (and credit it now if it is below the threshold).

    Refusals, in order: the slip's (:meth:`DepositSlip.parse`); the same receipt of the
    branch with other content (``receipt_already_used``; with the same content the first
    deposit is answered, ``created`` False); ``not_found`` (no customer has the phone
    number), ``account_frozen`` and ``risk_declined`` (the risk decision, event
    ``counter_deposit``, refused it: nothing is recorded, the teller gives the cash back).
    A ``report`` rule (structuring) takes the cash and records a report candidate.
    """
    policy = CounterPolicy.from_settings(services.settings)
    slip = DepositSlip.parse(
        policy, phone=phone, amount=amount, receipt_no=receipt_no, currency=currency, branch=branch
    )
    engine, clock = services.engine, services.clock
    earlier = await _by_receipt(services, slip)
    if earlier is not None:
        return _replayed(earlier, slip)
    # Refusals (unknown phone, frozen account) before any ledger account is opened.
    customer = await run_unit(engine, lambda uow: _customer(uow, slip.phone))
    large = policy.needs_approval(slip.amount)
    wallet_id = vault_id = 0
    if not large:
        wallet_id, vault_id = await _accounts(services, customer.id, slip)
    deposit_id = new_id("cdp")
    status = DepositStatus.AWAITING_APPROVAL if large else DepositStatus.COMPLETED
    risk = RiskSettings.from_settings(services.settings)

    async def work(uow: UnitOfWork) -> Recorded:
        conn = await uow.connection()
        again = await repository.deposit_by_receipt(
            conn, branch=slip.branch, receipt_no=slip.receipt_no
        )
        if again is not None:
            return Recorded(again, created=False)
        user = await _customer(uow, slip.phone)
        now = clock.now()
        facts = InflowFacts(
            user_id=user.id,
            amount=slip.amount,
            event=InflowEvent.COUNTER_DEPOSIT,
            reference=f"counter_deposit:{deposit_id}",
        )
        await decide_inflow(uow, facts, now=now, settings=risk, user=user)
        await repository.insert_deposit(
            conn,
            deposit_id=deposit_id,
            branch=slip.branch,
            receipt_no=slip.receipt_no,
            user_id=user.id,
            phone=slip.phone,
            amount=slip.amount,
            status=status,
            teller_id=staff.staff_id,
            now=now,
        )
        if large:
            await repository.insert_large_cash(
                conn,
                deposit_id=deposit_id,
                user_id=user.id,
                customer_name_masked=user.real_name_masked,
                phone_masked=mask_phone(slip.phone),
                amount=slip.amount,
                branch=slip.branch,
                teller_id=staff.staff_id,
                now=now,
            )
        else:
            await _credit(services, uow, deposit_id, wallet_id=wallet_id, vault_id=vault_id)
        await _audit(
            services,
            uow,
            staff,
            "counter_deposit.created",
            deposit_id,
            user_id=user.id,
            amount=slip.amount.to_decimal_string(),
            currency=slip.amount.currency,
            branch=slip.branch,
            receipt_no=slip.receipt_no,
            status=status.value,
        )
        return Recorded(await load(uow, deposit_id), created=True)

    try:
        recorded = await run_unit(engine, work)
    except IntegrityError:
        # The same receipt recorded concurrently: theirs is the deposit (or a conflict).
        raced = await _by_receipt(services, slip)
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


async def _by_receipt(services: Services, slip: DepositSlip) -> DepositView | None:
    async def work(uow: UnitOfWork) -> DepositView | None:
        return await repository.deposit_by_receipt(
            await uow.connection(), branch=slip.branch, receipt_no=slip.receipt_no
        )

    return await run_unit(services.engine, work, read_only=True)


async def _customer(uow: UnitOfWork, phone: str) -> User:
    """The active customer with ``phone`` (row share-locked); else ``not_found`` or
    ``account_frozen``."""
    conn = await uow.connection()
    user_id = await repository.customer_id_by_phone(conn, phone)
    if user_id is None:
        raise NotFoundError("no customer has this phone number")
    await ensure_not_frozen(conn, user_id=user_id)
    return await repository.customer(uow, user_id)


async def _accounts(services: Services, user_id: str, slip: DepositSlip) -> tuple[int, int]:
    """(wallet id, cash vault id), opened if new: outside the unit, like every account."""
    currency = slip.amount.currency
    wallet = await chart.open_account(services.ledger, chart.wallet(user_id, currency))
    vault = await chart.open_account(services.ledger, chart.cash_vault(slip.branch, currency))
    return wallet.id, vault.id


async def _credit(
    services: Services, uow: UnitOfWork, deposit_id: str, *, wallet_id: int, vault_id: int
) -> None:
    """Cash vault → wallet, once (ledger key ``counter_deposit:<id>``), and tell the owner."""
    clock = services.clock
    deposit = await load(uow, deposit_id)
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
    await repository.set_ledger_transaction(await uow.connection(), deposit_id, outcome.id)
    await notify_user(
        uow.session,
        clock=clock,
        user=await repository.customer(uow, deposit.user_id),
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
    services: Services, staff: StaffPrincipal, *, deposit_id: str
) -> DepositView:
    """Credit a deposit that waits for approval.

    Refusals, in order: ``not_found``; ``forbidden`` (the approver is the deposit's
    teller: a large deposit needs a second person); ``deposit_not_awaiting_approval``;
    ``account_frozen`` (the customer's, under the lock). Concurrent approvals credit once.
    """
    clock = services.clock
    deposit = await get_deposit(services, staff, deposit_id=deposit_id)
    _check_second_person(deposit, staff)
    _check_awaiting(deposit)
    slip = DepositSlip(deposit.phone, deposit.amount, deposit.receipt_no, deposit.branch)
    wallet_id, vault_id = await _accounts(services, deposit.user_id, slip)

    async def work(uow: UnitOfWork) -> DepositView:
        conn = await uow.connection()
        now = clock.now()
        # The customer's row before the deposit's: the global lock order (kit/db/locking.py).
        await ensure_not_frozen(conn, user_id=deposit.user_id)
        await _claim(uow, deposit_id, status=DepositStatus.COMPLETED, staff=staff, decided_at=now)
        await _credit(services, uow, deposit_id, wallet_id=wallet_id, vault_id=vault_id)
        await repository.approve_large_cash(conn, deposit_id, staff_id=staff.staff_id, now=now)
        await _audit(
            services,
            uow,
            staff,
            "counter_deposit.approved",
            deposit_id,
            user_id=deposit.user_id,
            amount=deposit.amount.to_decimal_string(),
            currency=deposit.amount.currency,
            teller_id=deposit.teller_id,
        )
        return await load(uow, deposit_id)

    approved = await run_unit(services.engine, work)
    log.info("counter.deposit_approved", deposit_id=deposit_id)
    return approved


async def reject_deposit(
    services: Services, staff: StaffPrincipal, *, deposit_id: str, reason: str
) -> DepositView:
    """Refuse a deposit that waits for approval: nothing is credited, the cash goes back.

    Refusals: ``validation_error`` (no reason, or one longer than 200 characters;
    ``field`` is ``reason``), ``not_found``, ``deposit_not_awaiting_approval``.
    """
    clock = services.clock
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailedError(
            f"give a reason of 1 to {REASON_MAX_LENGTH} characters", field="reason"
        )

    async def work(uow: UnitOfWork) -> DepositView:
        await _claim(
            uow,
            deposit_id,
            status=DepositStatus.REJECTED,
            staff=staff,
            decided_at=clock.now(),
            reason=reason,
        )
        deposit = await load(uow, deposit_id)
        await _audit(
            services,
            uow,
            staff,
            "counter_deposit.rejected",
            deposit_id,
            user_id=deposit.user_id,
            amount=deposit.amount.to_decimal_string(),
            currency=deposit.amount.currency,
            reason=reason,
        )
        return deposit

    rejected = await run_unit(services.engine, work)
    log.info("counter.deposit_rejected", deposit_id=deposit_id)
    return rejected


def _check_second_person(deposit: DepositView, staff: StaffPrincipal) -> None:
    if deposit.teller_id == staff.staff_id:
        raise ForbiddenError(
            "a large deposit needs a second person: the staff member who took the cash "
            "cannot approve it"
        )


def _check_awaiting(deposit: DepositView) -> None:
    if deposit.status != DepositStatus.AWAITING_APPROVAL:
        raise DepositNotAwaitingApprovalError(
            f"the deposit is {deposit.status}, not awaiting approval", status=deposit.status
        )


async def _claim(
    uow: UnitOfWork,
    deposit_id: str,
    *,
    status: DepositStatus,
    staff: StaffPrincipal,
    decided_at: datetime,
    reason: str | None = None,
) -> None:
    """Move the deposit out of ``awaiting_approval``; refuse if it is gone or decided."""
    claimed = await repository.claim_decision(
        await uow.connection(),
        deposit_id,
        status=status,
        staff_id=staff.staff_id,
        decided_at=decided_at,
        reason=reason,
    )
    if claimed:
        return
    _check_awaiting(await load(uow, deposit_id))  # raises: decided by someone else
    raise AssertionError("unreachable: an awaiting deposit was not claimed")


# ------------------------------------------------------------------------------ shared


async def _audit(
    services: Services,
    uow: UnitOfWork,
    staff: StaffPrincipal,
    action: str,
    deposit_id: str,
    **details: Any,
) -> None:
    await record_event(
        await uow.connection(),
        clock=services.clock,
        actor=staff.actor(),
        action=action,
        subject_type=SUBJECT,
        subject_id=deposit_id,
        details=details,
    )
