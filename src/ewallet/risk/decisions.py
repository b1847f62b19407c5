"""The risk decision on a spend: the one place a risk engine answers before money moves.

:func:`decide` is called by the spend seam (:mod:`ewallet.spend.service`) inside the unit
that moves the money, after the account's freeze and the spending limits were checked
under the spender's row lock. Today it allows every spend; the risk engine replaces its
body and keeps its contract:

- :attr:`Verdict.ALLOW` -- the movement goes ahead;
- :attr:`Verdict.REVIEW` -- the seam puts the money on a ledger hold instead and the
  movement waits for a staff decision (``under_review``, API.md);
- a block raises its refusal (``risk_declined``), rolling the unit back.

A decision must be quick and must not call out of the process: it runs while the spender's
row is locked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.money import Money
from ewallet.models.spending import AuthStrength, SpendChannel


class Verdict(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class SpendFacts:
    """What a decision sees of one spend."""

    user_id: str
    amount: Money
    channel: SpendChannel
    auth: AuthStrength
    reference: str
    counterparty: str | None  # the payee's user id, the merchant's or the biller's id


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    # The rules that fired, for staff to read; empty when nothing did.
    reasons: tuple[str, ...] = field(default=())


ALLOW = Decision(Verdict.ALLOW)


async def decide(uow: UnitOfWork, facts: SpendFacts) -> Decision:
    """The decision on ``facts`` (see the module doc); every spend is allowed for now."""
    del uow, facts
    return ALLOW
