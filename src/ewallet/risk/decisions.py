"""The risk decision on a spend: the one place the risk engine answers before money moves.

:func:`decide` is called by the spend seam (:mod:`ewallet.spend.service`) inside the unit
that moves the money, after the account's freeze and the spending limits were checked
under the spender's row lock, and asks the rule engine (:mod:`ewallet.risk.rules.engine`):

- :attr:`Verdict.ALLOW` -- the movement goes ahead (a ``report`` rule may have recorded a
  report candidate);
- :attr:`Verdict.CHALLENGE` -- for now the movement goes ahead as allowed and the rule's
  hit is recorded; asking the spender for a step-up is the next piece of work;
- :attr:`Verdict.REVIEW` -- the seam puts the money on a ledger hold instead and the
  movement waits for a staff decision (``under_review``, API.md);
- :attr:`Verdict.BLOCK` -- refused with ``risk_declined``, the unit rolled back.

An allowed (or challenged) decision is stored in the spend's unit and commits with it. A
refused one -- a block, or a review the feature cannot keep waiting -- is stored by
:func:`store_refused` in a unit of its own after the spend's unit rolled back, with the
protective freeze a ``freeze_account`` rule asks for. A decision must be quick and must
not call out of the process: it runs while the spender's row is locked.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

from ewallet.audit.service import Actor
from ewallet.identity.errors import AccountFrozenError
from ewallet.identity.protection.service import freeze_user
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.kit.money import Money
from ewallet.models.identity import User
from ewallet.models.risk import Verdict
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.risk.rules import engine
from ewallet.risk.rules.engine import Outcome, RiskSettings
from ewallet.risk.rules.features import Movement

__all__ = [
    "ALLOW",
    "Decision",
    "RiskDeclinedError",
    "RiskSettings",
    "SpendFacts",
    "Verdict",
    "decide",
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
    if outcome.verdict in (Verdict.ALLOW, Verdict.CHALLENGE):
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
    outcome = decision.outcome
    await uow.rollback()
    if outcome is None:
        return None  # a decision the engine did not make (a test's): nothing to store
    movement = _movement(facts, None)

    async def work(own: UnitOfWork) -> str:
        decision_id = await engine.record(own, movement, outcome, now=now)
        if outcome.verdict is Verdict.BLOCK and outcome.freeze_account:
            with suppress(AccountFrozenError):  # frozen meanwhile: nothing more to do
                await freeze_user(
                    own,
                    clock=FrozenClock(now),  # the decision's moment
                    user_id=facts.user_id,
                    frozen_by="risk",
                    reason=f"risk decision {decision_id}",
                    hotline=settings.hotline,
                    actor=Actor.system(),
                )
        return decision_id

    return await run_unit(uow.engine, work)
