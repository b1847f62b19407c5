"""Settling what the bank knows now: every card top-up and withdrawal whose outcome was
unknown, in one pass (the periodic job, ``ewallet topups|withdrawals settle`` and
reconciliation call it; docs/funding.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ewallet.funding.topups.card.jobs import SettleReport, settle_pending_topups
from ewallet.funding.withdrawals.jobs import WithdrawalSettleReport, settle_pending_withdrawals
from ewallet.services import Services


@dataclass(frozen=True, slots=True)
class FundingSettlement:
    topups: SettleReport
    withdrawals: WithdrawalSettleReport


def settle_grace(services: Services) -> timedelta:
    """How long an operation the bank never saw stays pending (it may still be in flight)."""
    return timedelta(seconds=services.settings.bank_unknown_grace_seconds)


async def settle_funding_once(services: Services, *, grace: timedelta) -> FundingSettlement:
    """One pass over pending card top-ups, then withdrawals: each is asked about at the bank
    by its request id and settled from the answer (``grace``: how long one the bank never
    saw stays pending)."""
    topups = await settle_pending_topups(services, grace=grace)
    withdrawals = await settle_pending_withdrawals(services, grace=grace)
    return FundingSettlement(topups, withdrawals)
