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
   on the same accounts when risk asked for a review, with the movement's open review
   (:mod:`ewallet.risk.review`, due after the feature's :class:`ReviewTerms`). The result
   says which: :class:`Spent` or :class:`Held`.

:func:`spend_from_wallet` does both for a feature with nothing to write in between
(transfers, bills). A feature that must write between them -- a payment claims its order
and queues the merchant's webhook before its entry -- calls the two itself. Any refusal
raises and rolls the whole unit back, so a refused spend leaves nothing behind.

The risk decision (:mod:`ewallet.risk.decisions`) is stored with the spend when it lets
the money move (``allow``, or a ``challenge`` the spender passed). A ``challenge`` asks the
spender for a step-up (SMS code or authenticator, :mod:`ewallet.identity.stepup.service`):
the request may carry the id of a challenge the spender passed (``challenge_id``); if that
challenge is theirs, passed, unused, within its window and was made for exactly this spend
(:func:`step_up_context`: channel, amount, currency, counterparty), it is used up in the
spend's unit and the money moves, the stored decision saying so (``step_up`` among its
features). Otherwise the unit is rolled back, the decision stored on its own and
:class:`SpendChallengedError` raised, which :func:`run_spend_unit` -- the ``run_unit`` of
every spending feature -- turns into a fresh challenge and ``401 step_up_required``
(docs/security.md, "Step-up for a challenged payment"). A ``block`` rolls
the unit back, stores the decision (and the protective freeze a rule may ask for) in a
unit of its own and raises ``risk_declined``. A ``review`` is kept waiting on a hold only
by a feature that says it can (``keeps_held=True``: transfers, bill payments, withdrawals
and online merchant payments), with its decision and its review row in the spend's unit,
for the staff queue (:mod:`ewallet.reviews`) to approve or reject; for every other feature
(payment-code charges: a shop's till cannot wait hours for an answer) the unit is rolled
back, the decision stored on its own and ``under_review`` raised, as :func:`expect_spent`
does for a held spend (docs/risk-review.md). The review hold is of two accounts (the
command's debit and credit); a feature whose entry has more legs -- a merchant payment's
fee -- passes :func:`book_spend` a :class:`CreateHold` of the whole amount for an admission
that is not allowed, and posts its real entry when the review is approved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from ewallet.identity.guards import locked_user
from ewallet.identity.runtime import Caller
from ewallet.identity.stepup.service import redeem_step_up, require_step_up
from ewallet.kit.clock import Clock, FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import DEFAULT_LOCALE
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
from ewallet.risk.review.service import open_review
from ewallet.risk.review.views import ReviewView
from ewallet.risk.spending import UNKNOWN, SpendingPolicy, UnknownAccount, reserve_spend
from ewallet.services import Services

T = TypeVar("T")

# The purpose of a spend's step-up challenge (``step_up_challenges.purpose``).
STEP_UP_PURPOSE: Final = "spend"
# The caller of a spend no request made (a job, the CLI, a test): a challenge still answers
# ``step_up_required``, its SMS in the default language.
NO_REQUEST: Final = Caller(ip=None, user_agent=None, locale=DEFAULT_LOCALE)


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
    # A step-up the spender passed for this spend after a risk challenge (``chl_…``).
    challenge_id: str | None = None


def step_up_context(request: SpendRequest) -> dict[str, Any]:
    """What a spend's step-up challenge is made for: a passed challenge lets through only a
    spend with exactly these (a challenge for 100 yuan to A never pays 200, or B)."""
    return {
        "channel": request.channel.value,
        "amount": request.amount.minor,
        "currency": request.amount.currency,
        "counterparty": request.counterparty,
    }


class SpendChallengedError(DomainError):
    """Risk asked for a step-up the spend did not bring (internal: :func:`run_spend_unit`
    answers it with a fresh challenge and ``step_up_required``). The spend's unit is rolled
    back and the decision stored when it is raised. Should it ever escape a feature that
    does not ask for step-ups, it answers as the refusal it then is (``risk_declined``),
    never as a server error."""

    code = "risk_declined"
    status = 403

    def __init__(self, user_id: str, context: dict[str, Any]) -> None:
        super().__init__("risk control asks for a step-up for this payment")
        self.user_id = user_id
        self.context = context


async def run_spend_unit(
    services: Services, work: Callable[[UnitOfWork], Awaitable[T]], *, caller: Caller | None
) -> T:
    """``run_unit`` for a unit that spends: a :class:`SpendChallengedError` in it becomes a
    challenge committed on its own and ``401 step_up_required`` (``challenge_id``,
    ``methods``) for ``caller`` (None: :data:`NO_REQUEST`) to prove with
    ``POST /v1/me/step-up`` and bring back."""
    try:
        return await run_unit(services.engine, work)
    except SpendChallengedError as challenged:
        raise await require_step_up(
            services,
            caller=caller if caller is not None else NO_REQUEST,
            user_id=challenged.user_id,
            purpose=STEP_UP_PURPOSE,
            context=challenged.context,
        ) from None


@dataclass(frozen=True, slots=True)
class Admission:
    """A spend that passed the freeze, the limits and risk: what :func:`book_spend` takes."""

    request: SpendRequest
    spender: User  # locked for this unit
    decision: Decision

    # The challenge the spender passed for it, when risk asked for one (``chl_…``).
    step_up: str | None = None

    @property
    def allowed(self) -> bool:
        verdict = self.decision.verdict
        return verdict is Verdict.ALLOW or (verdict is Verdict.CHALLENGE and bool(self.step_up))


@dataclass(frozen=True, slots=True)
class Spent:
    """The money moved (a ledger transaction) or is reserved for the feature (a hold)."""

    booked: Transaction | Hold


@dataclass(frozen=True, slots=True)
class Held:
    """Risk asked for a review: the amount is on ``hold`` until staff decide ``review``
    (None only for a decision the engine did not make -- a test's --, which has no stored
    decision for a review to name)."""

    hold: Hold
    decision: Decision
    review: ReviewView | None = None


# The review's SLA when a feature names none: EWALLET_RISK_REVIEW_SLA_MINUTES's default.
DEFAULT_REVIEW_SLA = timedelta(minutes=240)


@dataclass(frozen=True, slots=True)
class ReviewTerms:
    """What a feature that keeps reviews waiting tells the seam about its movement: its own
    id (``trf_…``, what the staff queue and the feature's completion look up) and the SLA
    (``EWALLET_RISK_REVIEW_SLA_MINUTES``) the review is due within."""

    subject_id: str
    sla: timedelta = DEFAULT_REVIEW_SLA


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
    confirmed_by: str | None = None,
) -> Admission:
    """Lock the spender, check the freeze and the limits, count the spend, ask risk.

    Call it first in the unit (it takes the spender's row lock, step 1 of the lock order),
    or pass the row the unit already locked with ``locked_user`` as ``locked``.
    ``new_reference`` and ``wallet_account_id`` save statements as in
    :func:`~ewallet.risk.spending.reserve_spend`. ``keeps_held``: the feature keeps a
    movement under review waiting (its :func:`book_spend` result may be :class:`Held`);
    otherwise a review rolls the unit back and raises ``under_review`` here.
    ``confirmed_by``: the spend already passed a second factor of its own, named so
    (``payment_code_confirmation:pcc_…``, the payer's PIN on their own phone for a
    payment-code charge): a ``challenge`` counts as passed by it (docs/payment-code.md).

    Refusals, besides the limits' and the freeze's: ``risk_declined`` (a block),
    ``under_review`` and :class:`SpendChallengedError` (a challenge without a step-up that
    passes for this spend, module doc); all leave the unit rolled back and the decision
    stored.
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
    if decision.verdict is Verdict.CHALLENGE:
        return await _with_step_up(
            uow,
            request,
            facts,
            decision,
            spender,
            now=now,
            policy=policy,
            confirmed_by=confirmed_by,
        )
    if decision.verdict is Verdict.REVIEW:
        decision = await store_held(uow, facts, decision, now=now)
    return Admission(request, spender, decision)


async def _with_step_up(
    uow: UnitOfWork,
    request: SpendRequest,
    facts: SpendFacts,
    decision: Decision,
    spender: User,
    *,
    now: datetime,
    policy: SpendingPolicy,
    confirmed_by: str | None,
) -> Admission:
    """A challenged spend: admitted with the step-up it brings, used up in this unit (so a
    spend that fails later leaves it usable for a retry), or refused (module doc)."""
    context = step_up_context(request)
    if confirmed_by is not None:
        passed = _step_up_passed(decision, {"passed": True, "by": confirmed_by})
        stored = await store_held(uow, facts, passed, now=now)
        return Admission(request, spender, stored, confirmed_by)
    challenge_id = request.challenge_id
    if challenge_id is not None:
        redeemed = await redeem_step_up(
            await uow.connection(),
            clock=FrozenClock(now),
            user_id=request.user_id,
            challenge_id=challenge_id,
            purpose=STEP_UP_PURPOSE,
        )
        if redeemed == context:
            passed = _step_up_passed(decision, {"passed": True, "challenge_id": challenge_id})
            return Admission(
                request, spender, await store_held(uow, facts, passed, now=now), challenge_id
            )
    # Refused: the rollback also gives back a challenge used above for another spend.
    await store_refused(uow, facts, decision, now=now, settings=policy.risk)
    raise SpendChallengedError(request.user_id, context)


def _step_up_passed(decision: Decision, step_up: dict[str, Any]) -> Decision:
    """The challenged decision as stored when the spender passed its step-up: the features
    the rules saw, plus ``step_up`` saying how (the challenge passed, or the other proof)."""
    if decision.outcome is None:  # a decision the engine did not make (a test's)
        return decision
    outcome = replace(decision.outcome, features={**decision.outcome.features, "step_up": step_up})
    return replace(decision, outcome=outcome)


async def book_spend(
    uow: UnitOfWork,
    admission: Admission,
    command: PostEntry | CreateHold,
    *,
    clock: Clock,
    review: ReviewTerms | None = None,
) -> SpendResult:
    """Apply ``command`` for an allowed spend; for one under review, hold its amount instead
    and open its review (``review``: the feature's id and SLA; without it the spend's
    reference and :data:`DEFAULT_REVIEW_SLA`).

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
    decision_id = admission.decision.decision_id
    if decision_id is None:  # a decision the engine did not make (a test's): no review
        return Held(hold, admission.decision)
    request = admission.request
    terms = review if review is not None else ReviewTerms(request.reference)
    opened = await open_review(
        uow,
        decision_id=decision_id,
        user_id=request.user_id,
        channel=request.channel.value,
        reference=request.reference,
        subject_id=terms.subject_id,
        amount=request.amount,
        hold_id=hold.id,
        now=clock.now(),
        sla=terms.sla,
    )
    return Held(hold, admission.decision, opened)


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
    review: ReviewTerms | None = None,
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
    return await book_spend(uow, admission, command, clock=clock, review=review)


def _accounts_of(command: PostEntry | CreateHold, amount: Money) -> tuple[int, int]:
    """The wallet debited and the account credited by ``command``, for a review hold."""
    if isinstance(command, CreateHold):
        return command.debit_account_id, command.credit_account_id
    debits = [leg.account_id for leg in command.legs if leg.side is Side.DEBIT]
    credited = [leg.account_id for leg in command.legs if leg.side is Side.CREDIT]
    if len(debits) != 1 or len(credited) != 1:
        raise ValueError(f"a spend of {amount} is one debit and one credit")
    return debits[0], credited[0]
