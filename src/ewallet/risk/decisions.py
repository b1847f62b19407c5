"""The risk decision: the one place the risk engine answers before money moves or a
session opens.

**Spends.** :func:`decide` is called by the spend seam (:mod:`ewallet.spend.service`) inside
the unit that moves the money, after the account's freeze and the spending limits were
checked under the spender's row lock, and asks the rule engine
(:mod:`ewallet.risk.rules.engine`):

- :attr:`Verdict.ALLOW` -- the movement goes ahead (a ``report`` rule may have recorded a
  report candidate);
- :attr:`Verdict.CHALLENGE` -- the seam asks the spender for a step-up (SMS or TOTP,
  ``401 step_up_required``) unless the request presents one passed for this very spend,
  and stores the challenge itself, passed or refused (:mod:`ewallet.spend.service`);
- :attr:`Verdict.REVIEW` -- the seam puts the money on a ledger hold instead and the
  movement waits for a staff decision (``under_review``, API.md; docs/risk-review.md);
- :attr:`Verdict.BLOCK` -- refused with ``risk_declined``, the unit rolled back.

An allowed decision is stored here, in the spend's unit, and commits with it. A refused
one -- a block, a challenge without its step-up, a review the feature cannot keep
waiting -- is stored by :func:`store_refused` in a unit of its own after the spend's unit
rolled back, with the protective freeze a ``freeze_account`` rule asks for. A decision
must be quick and must not call out of the process: it runs while the spender's row is
locked.

**Money in.** :func:`decide_inflow` decides a card or PSP top-up before the bank or the PSP
is asked, and a counter deposit as the teller records it. Only ``block`` stops one
(``risk_declined``, stored on its own as a spend's); money coming in cannot hurt its owner,
so ``challenge`` and ``review`` are recorded for staff and the money moves
(docs/risk-rules.md, "Money in").

**Sign-in.** :func:`check_sign_in` is the check the app registers with sign-in
(:mod:`ewallet.identity.signin.checks`): ``block`` opens no session, ``challenge`` -- and
``review``, which has no queue to wait in at sign-in -- asks for the new-device step-up. Only
what is worth reading is stored: a verdict other than ``allow``, or a rule that fired (a
shadow rule's hit), so a sign-in no rule concerns costs no statement.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from ewallet.audit.service import Actor
from ewallet.identity.errors import AccountFrozenError
from ewallet.identity.protection.service import freeze_user
from ewallet.identity.signin.checks import SignInAttempt, SignInVerdict
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.models.identity import User
from ewallet.models.risk import Verdict
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.risk.rules import engine
from ewallet.risk.rules.engine import Outcome, RiskSettings
from ewallet.risk.rules.features import Movement, SeenDevice
from ewallet.services import Services

__all__ = [
    "ALLOW",
    "Decision",
    "InflowEvent",
    "InflowFacts",
    "RiskDeclinedError",
    "RiskSettings",
    "SpendFacts",
    "Verdict",
    "check_sign_in",
    "decide",
    "decide_inflow",
    "store_held",
    "store_refused",
]


class RiskDeclinedError(DomainError):
    """``risk_declined``: risk control refused the movement (never says which rule)."""

    code = "risk_declined"
    status = 403


@dataclass(frozen=True, slots=True)
class SpendFacts:
    """What a decision sees of one spend."""

    user_id: str
    amount: Money
    channel: SpendChannel
    auth: AuthStrength
    reference: str
    counterparty: str | None  # the payee's user id, the merchant's or the biller's id
    device_id: str | None = None  # the device the spend came from (devices.id), if known


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    # The live rules that acted, for staff to read; empty when nothing did.
    reasons: tuple[str, ...] = field(default=())
    outcome: Outcome | None = None  # the evaluation, kept for storing a refused decision
    decision_id: str | None = None  # set once stored in the spend's unit


ALLOW = Decision(Verdict.ALLOW)


def _movement(facts: SpendFacts, spender: User | None) -> Movement:
    return Movement(
        user_id=facts.user_id,
        event=facts.channel.value,
        reference=facts.reference,
        amount=facts.amount,
        counterparty=facts.counterparty,
        auth=facts.auth.value,
        device_id=facts.device_id,
        account_tier=None if spender is None else spender.tier,
        account_created_at=None if spender is None else spender.created_at,
        pin_failures=None if spender is None else spender.payment_failures,
    )


async def decide(
    uow: UnitOfWork,
    facts: SpendFacts,
    *,
    now: datetime,
    settings: RiskSettings,
    spender: User | None = None,
) -> Decision:
    """The decision on ``facts`` (module doc); stored in ``uow`` unless it refuses."""
    outcome = await engine.evaluate(
        await uow.connection(), _movement(facts, spender), now=now, settings=settings
    )
    decision = Decision(outcome.verdict, outcome.reasons, outcome)
    if outcome.verdict is Verdict.ALLOW:  # a challenge: stored by the seam (passed or not)
        decision_id = await engine.record(uow, _movement(facts, spender), outcome, now=now)
        decision = Decision(outcome.verdict, outcome.reasons, outcome, decision_id)
    return decision


async def store_held(
    uow: UnitOfWork, facts: SpendFacts, decision: Decision, *, now: datetime
) -> Decision:
    """Store a ``review`` the feature keeps waiting on a hold, in the spend's unit (a
    decision the engine did not make -- a test's -- has nothing to store)."""
    if decision.outcome is None:
        return decision
    decision_id = await engine.record(uow, _movement(facts, None), decision.outcome, now=now)
    return Decision(decision.verdict, decision.reasons, decision.outcome, decision_id)


async def store_refused(
    uow: UnitOfWork,
    facts: SpendFacts,
    decision: Decision,
    *,
    now: datetime,
    settings: RiskSettings,
) -> str | None:
    """Roll the spend's unit back, then store the refused ``decision`` in a unit of its own
    (with the ``rule_error`` alert, and the protective freeze a block may ask for: the
    owner gets the ``account_frozen`` notice that says how to unfreeze). Its id."""
    await uow.rollback()
    if decision.outcome is None:
        return None  # a decision the engine did not make (a test's): nothing to store
    return await _store_on_its_own(
        uow, _movement(facts, None), decision.outcome, now=now, settings=settings
    )


async def _store_on_its_own(
    uow: UnitOfWork, movement: Movement, outcome: Outcome, *, now: datetime, settings: RiskSettings
) -> str:
    """Store a refused decision in a unit of its own (``uow`` is rolled back already)."""

    async def work(own: UnitOfWork) -> str:
        decision_id = await engine.record(own, movement, outcome, now=now)
        await _protective_freeze(
            own,
            outcome,
            user_id=movement.user_id,
            decision_id=decision_id,
            now=now,
            settings=settings,
        )
        return decision_id

    return await run_unit(uow.engine, work)


async def _protective_freeze(
    uow: UnitOfWork,
    outcome: Outcome,
    *,
    user_id: str,
    decision_id: str,
    now: datetime,
    settings: RiskSettings,
) -> None:
    """Freeze the account when a block's rule asks for it (``frozen_by = "risk"``)."""
    if outcome.verdict is not Verdict.BLOCK or not outcome.freeze_account:
        return
    with suppress(AccountFrozenError):  # frozen meanwhile: nothing more to do
        await freeze_user(
            uow,
            clock=FrozenClock(now),  # the decision's moment
            user_id=user_id,
            frozen_by="risk",
            reason=f"risk decision {decision_id}",
            hotline=settings.hotline,
            actor=Actor.system(),
        )


# ------------------------------------------------------------------------------ money in


class InflowEvent(StrEnum):
    """Money coming into a wallet that passes the decision point (a rule's ``events``)."""

    CARD_TOPUP = "card_topup"
    PSP_TOPUP = "psp_topup"
    COUNTER_DEPOSIT = "counter_deposit"


@dataclass(frozen=True, slots=True)
class InflowFacts:
    """What a decision sees of money coming in."""

    user_id: str  # whose wallet it credits
    amount: Money
    event: InflowEvent
    reference: str  # ``topup:<id>``, ``counter_deposit:<id>``
    auth: str | None = None  # "pin" for a card top-up (the payment password was checked)


async def decide_inflow(
    uow: UnitOfWork,
    facts: InflowFacts,
    *,
    now: datetime,
    settings: RiskSettings,
    user: User | None = None,
) -> Decision:
    """Decide money coming in, in the unit that records it, before anyone outside is asked.

    ``block``: ``uow`` is rolled back, the decision stored in a unit of its own (with the
    protective freeze a rule may ask for) and ``risk_declined`` raised -- nothing recorded,
    nothing asked of the bank or the PSP, nothing moved. Any other verdict is stored in
    ``uow`` (a ``report`` rule's candidate with it) and the money comes in: a ``challenge``
    or a ``review`` is kept for staff to read, not acted on (module doc). ``user`` is the
    owner's row when the caller has it (the account features); else it is read.
    """
    owner = user if user is not None else await uow.session.get(User, facts.user_id)
    movement = Movement(
        user_id=facts.user_id,
        event=facts.event.value,
        reference=facts.reference,
        amount=facts.amount,
        auth=facts.auth,
        account_tier=None if owner is None else owner.tier,
        account_created_at=None if owner is None else owner.created_at,
        pin_failures=None if owner is None else owner.payment_failures,
        login_failures=None if owner is None else owner.login_failures,
    )
    outcome = await engine.evaluate(await uow.connection(), movement, now=now, settings=settings)
    if outcome.verdict is Verdict.BLOCK:
        await uow.rollback()
        await _store_on_its_own(uow, movement, outcome, now=now, settings=settings)
        raise RiskDeclinedError("risk control declined this top-up")
    decision_id = await engine.record(uow, movement, outcome, now=now)
    return Decision(outcome.verdict, outcome.reasons, outcome, decision_id)


# ------------------------------------------------------------------------------ sign-in


async def check_sign_in(
    uow: UnitOfWork, services: Services, *, user: User, attempt: SignInAttempt
) -> SignInVerdict:
    """The risk decision on a sign-in (:mod:`ewallet.identity.signin.checks`), in the
    sign-in's unit under the user's row lock. The features are the user's row and the
    device the sign-in looked up: no statement unless a ``sign_in`` rule reads more. Stored
    in ``uow`` unless it is an ``allow`` no rule fired on; a ``block`` whose rule asks for
    it freezes the account in the same unit. ``review`` answers ``challenge``."""
    settings = RiskSettings.from_settings(services.settings)
    now = services.clock.now()
    movement = Movement(
        user_id=user.id,
        event="sign_in",
        reference=f"sign_in:{new_id('sgn')}",
        amount=None,
        auth=attempt.method,
        seen_device=SeenDevice(attempt.device_first_seen),
        account_tier=user.tier,
        account_created_at=user.created_at,
        pin_failures=user.payment_failures,
        login_failures=attempt.login_failures,
    )
    outcome = await engine.evaluate(await uow.connection(), movement, now=now, settings=settings)
    if outcome.verdict is Verdict.ALLOW and not outcome.fired:
        return SignInVerdict.ALLOW
    decision_id = await engine.record(uow, movement, outcome, now=now)
    await _protective_freeze(
        uow, outcome, user_id=user.id, decision_id=decision_id, now=now, settings=settings
    )
    return _SIGN_IN[outcome.verdict]


_SIGN_IN: Final = {
    Verdict.ALLOW: SignInVerdict.ALLOW,
    Verdict.CHALLENGE: SignInVerdict.CHALLENGE,
    Verdict.REVIEW: SignInVerdict.CHALLENGE,  # no queue waits at sign-in: a second factor
    Verdict.BLOCK: SignInVerdict.BLOCK,
}
