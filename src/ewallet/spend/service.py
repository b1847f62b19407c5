"""The one seam every movement of money out of a wallet goes through.

Payments, payment-code charges, transfers, bill payments and withdrawals each spend from a
wallet. They differ in what they write around the money, not in how the money may leave,
so that part is here, once, inside the feature's unit of work:

1. :func:`admit_spend` -- the spender's row lock (step 1 of the lock order,
   docs/architecture.md), the freeze check under it (``account_frozen``), every spending
   limit that applies (``limit_exceeded``) and the spend's record in ``spend_records``,
   then the risk decision (:mod:`ewallet.risk.decisions`). It returns an
   :class:`Admission` that says whether the money may move now.
2. :func:`book_spend` -- the feature's ledger command (an entry that moves the money, or a
   hold the feature settles later) when the spend was allowed; a hold of the same amount
   on the same accounts when risk asked for a review. The result says which:
   :class:`Spent` or :class:`Held`.

:func:`spend_from_wallet` does both for a feature with nothing to write in between
(transfers, bills). A feature that must write between them -- a payment claims its order
and queues the merchant's webhook before its entry -- calls the two itself. Any refusal
raises and rolls the whole unit back, so a refused spend leaves nothing behind.

The risk decision (:mod:`ewallet.risk.decisions`) is stored with the spend when it lets
the money move (``allow``; ``challenge``, which for now moves it too). A ``block`` rolls
the unit back, stores the decision (and the protective freeze a rule may ask for) in a
unit of its own and raises ``risk_declined``. A ``review`` is kept waiting on a hold only
by a feature that says it can (``keeps_held=True``; none does yet -- the review queue is
the next piece of work): for every other one the unit is rolled back, the decision stored
on its own and ``under_review`` raised, as :func:`expect_spent` does for a held spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.identity.guards import locked_user
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import DomainError
from ewallet.kit.money import Money
from ewallet.ledger import CreateHold, Hold, PostEntry, Side, Transaction, apply_command
from ewallet.models.identity import User
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.risk.decisions import (
    Decision,
    RiskDeclinedError,
    SpendFacts,
    Verdict,
    decide,
    store_held,
    store_refused,
)
from ewallet.risk.spending import UNKNOWN, SpendingPolicy, UnknownAccount, reserve_spend


class SpendUnderReviewError(DomainError):
    """``under_review``: risk control holds the movement for a staff decision."""

    code = "under_review"
    status = 202


@dataclass(frozen=True, slots=True)
class SpendRequest:
    """One spend from ``user_id``'s wallet; ``reference`` is unique to it (``payment:pay_…``)."""

    user_id: str
    amount: Money
    channel: SpendChannel
    auth: AuthStrength
    reference: str
    counterparty: str | None = None
    device_id: str | None = None  # the device it came from (devices.id), for risk


@dataclass(frozen=True, slots=True)
class Admission:
    """A spend that passed the freeze, the limits and risk: what :func:`book_spend` takes."""

    request: SpendRequest
    spender: User  # locked for this unit
    decision: Decision

    @property
    def allowed(self) -> bool:
        # A challenge moves the money until spends learn the step-up (docs/risk-rules.md).
        return self.decision.verdict in (Verdict.ALLOW, Verdict.CHALLENGE)


@dataclass(frozen=True, slots=True)
class Spent:
    """The money moved (a ledger transaction) or is reserved for the feature (a hold)."""

    booked: Transaction | Hold


@dataclass(frozen=True, slots=True)
class Held:
    """Risk asked for a review: the amount is on ``hold`` until staff decide."""

    hold: Hold
    decision: Decision


SpendResult = Spent | Held


def expect_spent(result: SpendResult) -> Transaction | Hold:
    """What the ledger booked for a spend that went ahead; ``under_review`` for a held one
    (raised, so a feature that cannot keep a movement waiting rolls its unit back)."""
    if isinstance(result, Held):
        raise SpendUnderReviewError("risk control is reviewing this payment")
    return result.booked


async def admit_spend(
    uow: UnitOfWork,
    request: SpendRequest,
    *,
    now: datetime,
    policy: SpendingPolicy,
    locked: User | None = None,
    new_reference: bool = False,
    wallet_account_id: int | UnknownAccount | None = UNKNOWN,
    keeps_held: bool = False,
) -> Admission:
    """Lock the spender, check the freeze and the limits, count the spend, ask risk.

    Call it first in the unit (it takes the spender's row lock, step 1 of the lock order),
    or pass the row the unit already locked with ``locked_user`` as ``locked``.
    ``new_reference`` and ``wallet_account_id`` save statements as in
    :func:`~ewallet.risk.spending.reserve_spend`. ``keeps_held``: the feature keeps a
    movement under review waiting (its :func:`book_spend` result may be :class:`Held`);
    otherwise a review rolls the unit back and raises ``under_review`` here.

    Refusals, besides the limits' and the freeze's: ``risk_declined`` (a block) and
    ``under_review``; both leave the unit rolled back and the decision stored.
    """
    spender = locked if locked is not None else await locked_user(uow, request.user_id)
    await reserve_spend(
        uow,
        user_id=request.user_id,
        amount=request.amount,
        channel=request.channel,
        auth=request.auth,
        reference=request.reference,
        now=now,
        policy=policy,
        locked=spender,
        new_reference=new_reference,
        wallet_account_id=wallet_account_id,
        counterparty=request.counterparty,
    )
    facts = SpendFacts(
        user_id=request.user_id,
        amount=request.amount,
        channel=request.channel,
        auth=request.auth,
        reference=request.reference,
        counterparty=request.counterparty,
        device_id=request.device_id,
    )
    settings = policy.risk
    decision = await decide(uow, facts, now=now, settings=settings, spender=spender)
    if decision.verdict is Verdict.BLOCK:
        await store_refused(uow, facts, decision, now=now, settings=settings)
        raise RiskDeclinedError("risk control declined this payment")
    if decision.verdict is Verdict.REVIEW and not keeps_held:
        await store_refused(uow, facts, decision, now=now, settings=settings)
        raise SpendUnderReviewError("risk control is reviewing this payment")
    if decision.verdict is Verdict.REVIEW:
        decision = await store_held(uow, facts, decision, now=now)
    return Admission(request, spender, decision)


async def book_spend(
    uow: UnitOfWork, admission: Admission, command: PostEntry | CreateHold, *, clock: Clock
) -> SpendResult:
    """Apply ``command`` for an allowed spend; for one under review, hold its amount instead.

    ``command`` debits the spender's wallet by the admitted amount (and credits the payee's
    account, or reserves it); its refusal (``insufficient_balance``) rolls the unit back.
    """
    if admission.allowed:
        booked = await apply_command(uow, command, clock=clock)
        assert isinstance(booked, Transaction | Hold)
        return Spent(booked)
    debit, credit = _accounts_of(command, admission.request.amount)
    hold = await apply_command(
        uow,
        CreateHold(
            key=f"{command.key}:review",
            kind=command.kind,
            debit_account_id=debit,
            credit_account_id=credit,
            amount=admission.request.amount,
            metadata={**command.metadata, "review": list(admission.decision.reasons)},
        ),
        clock=clock,
    )
    assert isinstance(hold, Hold)
    return Held(hold, admission.decision)


async def spend_from_wallet(
    uow: UnitOfWork,
    request: SpendRequest,
    command: PostEntry | CreateHold,
    *,
    clock: Clock,
    policy: SpendingPolicy,
    locked: User | None = None,
    new_reference: bool = False,
    wallet_account_id: int | UnknownAccount | None = UNKNOWN,
    keeps_held: bool = False,
) -> SpendResult:
    """:func:`admit_spend` then :func:`book_spend`, for features with nothing in between."""
    admission = await admit_spend(
        uow,
        request,
        now=clock.now(),
        policy=policy,
        locked=locked,
        new_reference=new_reference,
        wallet_account_id=wallet_account_id,
        keeps_held=keeps_held,
    )
    return await book_spend(uow, admission, command, clock=clock)


def _accounts_of(command: PostEntry | CreateHold, amount: Money) -> tuple[int, int]:
    """The wallet debited and the account credited by ``command``, for a review hold."""
    if isinstance(command, CreateHold):
        return command.debit_account_id, command.credit_account_id
    debits = [leg.account_id for leg in command.legs if leg.side is Side.DEBIT]
    credited = [leg.account_id for leg in command.legs if leg.side is Side.CREDIT]
    if len(debits) != 1 or len(credited) != 1:
        raise ValueError(f"a spend of {amount} is one debit and one credit")
    return debits[0], credited[0]
